"""Password hashing (argon2id through pwdlib) and the password policy."""

from __future__ import annotations

from importlib import resources

from pwdlib import PasswordHash

from falflow.kit.errors import InvalidInputError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("falflow-dummy-password-for-timing")


def _common_passwords() -> frozenset[str]:
    text = resources.files("falflow.accounts").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


_COMMON = _common_passwords()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"password is {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}.",
            errors=[{"field": "password", "value": None, "message": f"password: use at least {MIN_PASSWORD_LENGTH} characters"}],
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"password is {len(password)} characters; use at most {MAX_PASSWORD_LENGTH}.",
            errors=[{"field": "password", "value": None, "message": f"password: use at most {MAX_PASSWORD_LENGTH} characters"}],
        )
    if password.lower() in _COMMON:
        raise InvalidInputError(
            "password is on the list of commonly used passwords; choose a longer, less predictable one.",
            errors=[{"field": "password", "value": None, "message": "password: too common"}],
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check `password`; return (valid, new hash when the parameters should be upgraded)."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    return _hasher.verify_and_update(password, password_hash)
