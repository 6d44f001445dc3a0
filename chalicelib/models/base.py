"""What every table model shares: its name, its region, its timestamps.

Table names come from ``Settings.table_prefix`` so each stage has its own
tables.  ``Meta.host`` is deliberately left unset: pynamodb then creates its
botocore client without an explicit endpoint and botocore's standard endpoint
resolution applies (``AWS_ENDPOINT_URL`` locally, the real regional endpoint in
Lambda).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.models.connection import share_sessions_per_thread
from chalicelib.settings import get_settings

share_sessions_per_thread()  # before any model makes its connection


def table_name(suffix: str) -> str:
    """The physical table name for a logical table of this stage."""
    return f"{get_settings().table_prefix}{suffix}"


def region() -> str:
    return get_settings().region


def utcnow() -> datetime:
    """Aware UTC now; pynamodb's UTCDateTimeAttribute requires aware datetimes."""
    return datetime.now(UTC)
