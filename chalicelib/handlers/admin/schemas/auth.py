"""Console sign-in: password and WeChat scan, and the sessions they open."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.handlers.admin.schemas.common import In, Out
from chalicelib.handlers.admin.schemas.fields import Password
from chalicelib.handlers.admin.schemas.users import UserOut


class LoginIn(In):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Password


class PasswordIn(In):
    password: Password
    # the sign-in name, lower-cased by the server (so capitals are accepted): the same rule as sessions.USERNAME
    username: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=3, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$"
            ),
        ]
        | None
    ) = None
    current_password: Password | None = None


class SessionOut(Out):
    session_id: str
    user_id: str
    method: str
    user_agent: str | None
    source_ip: str | None
    created_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    expires_at: datetime
    current: bool


class SessionList(Out):
    items: list[SessionOut]


class SignedInOut(Out):
    user: UserOut
    session: SessionOut
    csrf_token: str = Field(description="send as X-CSRF-Token on every write made with the session cookie")


class WechatLoginOut(Out):
    scene: str
    poll_token: str | None = Field(None, description="only the page that asked holds it; send it when polling")
    qr_url: str = Field(description="the image of the temporary QR code")
    expires_at: datetime
    status: str


class WechatLoginPollIn(In):
    poll_token: Annotated[str, StringConstraints(min_length=20, max_length=100)]


class WechatPollOut(Out):
    status: Literal["waiting", "unknown", "bound", "signed_in"]
    user: UserOut | None = None
    session: SessionOut | None = None
    csrf_token: str | None = None
