"""The audit log's entries: who changed what, with the object before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.handlers.admin.schemas.common import Out, Page


class AuditEntryOut(Out):
    entry_id: str
    unit_id: str
    object_key: str
    action: str
    actor: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
    at: datetime


class AuditList(Page[AuditEntryOut]):
    pass
