"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, max_length=200)


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str


class TokenPair(BaseModel):
    token_type: str = "bearer"
    access_token: str
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    user: UserPublic


class CreditsPublic(BaseModel):
    balance: int = Field(description="Credits owned (1 credit = US$0.001); negative after a clawback.")
    reserved: int = Field(description="Credits held for runs in progress.")
    available: int = Field(description="balance - reserved: what a new run may hold.")


class MePublic(BaseModel):
    id: uuid.UUID
    email: str
    credit_balance: int
    credits: CreditsPublic
    mode: str = Field(description="'sandbox' or 'live'.")
