"""Residents' data requests under PIPL: export and erasure of one fan of an account."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.handlers.admin.schemas.common import In, Out
from chalicelib.handlers.admin.schemas.fields import OpenId, PlainText


class ResidentRequest(In):
    """One resident of the account, named in the body (not the path) so that access logs never hold his openid."""

    openid: OpenId
    reason: Annotated[str, PlainText(200)] | None = None


class ResidentErasureOut(Out):
    subject: str = Field(description="digest naming the erased resident in the audit log (never the openid)")
    lost_subscriptions: int
    removed: dict[str, int]


class ResidentExportOut(Out):
    data: dict[str, Any]
