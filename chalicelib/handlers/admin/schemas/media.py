"""Media files: the references content holds and the browser-direct upload that stores them."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.handlers.admin.schemas.common import In, Out
from chalicelib.handlers.admin.schemas.fields import Id, Sha256, Size
from chalicelib.services.content.media import TYPES as MEDIA_TYPES
from chalicelib.services.content.media import MediaType


def _size_limits(schema: dict[str, Any]) -> None:
    """Each media type's own size cap, in the document as well as in services/content/media.py."""
    schema["allOf"] = [
        {
            "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
            "then": {"properties": {"size": {"maximum": limit}}},
        }
        for kind, (_ext, limit) in MEDIA_TYPES.items()
    ]


class MediaRef(In):
    model_config = ConfigDict(json_schema_extra=_size_limits)

    sha256: Sha256
    size: Size
    type: MediaType


class MediaOut(Out):
    key: str
    type: str
    size: int
    sha256: str


class MediaUploadIn(In):
    model_config = ConfigDict(json_schema_extra=_size_limits)

    unit_id: Id
    sha256: Sha256
    size: Size
    type: MediaType


class UploadForm(Out):
    url: str
    fields: dict[str, str]
    expires_in: int


class MediaUploadOut(Out):
    key: str
    exists: bool
    upload: UploadForm | None
