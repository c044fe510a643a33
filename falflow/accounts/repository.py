"""SQL for accounts; services call these with their session and never write queries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from falflow.accounts.models import LoginFailure, RefreshToken, User


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def add(session: Session, row: User | RefreshToken | LoginFailure) -> None:
    session.add(row)
    session.flush()


def get_refresh_token_for_update(session: Session, token_hash: str) -> RefreshToken | None:
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return session.exec(statement).first()


def mark_rotated(session: Session, token_id: uuid.UUID, now: datetime) -> bool:
    """Flip a live token to rotated; False when another request rotated it first."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(rotated_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
    )


def count_failures(session: Session, keys: list[str], since: datetime) -> dict[str, int]:
    rows = session.execute(
        select(LoginFailure.key, func.count())
        .where(LoginFailure.key.in_(keys), LoginFailure.created_at >= since)  # type: ignore[attr-defined]
        .group_by(LoginFailure.key)
    ).all()
    return {key: count for key, count in rows}


def oldest_failure(session: Session, key: str, since: datetime) -> datetime | None:
    return session.execute(
        select(func.min(LoginFailure.created_at)).where(LoginFailure.key == key, LoginFailure.created_at >= since)
    ).scalar_one_or_none()


def clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))  # type: ignore[arg-type]


def bump_token_version(session: Session, user_id: uuid.UUID) -> None:
    session.execute(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))  # type: ignore[arg-type]
