"""Media uploads straight to the bucket by pre-signed POST, content-addressed.

The client names the file by its SHA-256, size and type.  The form it gets
never writes the content-addressed key itself: it writes a fresh staging key
(``uploads/staging/<sha256>/<random>``), fixed in the policy together with the
exact size and the content type.  Hash and size are public (manifests list
them), so a form for the final key would let anyone who can upload replace
the bytes another unit's screens show; a staging key cannot hurt anyone.

Before content may reference a file, ``verify`` finds it: the final key
``media/<sha256>.<ext>`` if it is already stored, else a staged upload whose
size, type and SHA-256 are checked on the stored bytes and only then copied to
the final key (if still absent).  Staged objects are deleted once looked at,
matching or not.  So an object under ``media/`` is always the bytes of its
hash, which is what lets the CDN cache it forever, and only the server writes
there.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Literal, get_args

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.settings import get_settings

# The admin schemas type a media type with this Literal (mypy takes only literal values in a Literal[...]);
# TYPES holds what each one is stored as, in the same order (checked on import).
MediaType = Literal["image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"]
TYPES: dict[str, tuple[str, int]] = {  # content type -> (extension, max bytes)
    "image/jpeg": ("jpg", 10 * 1024 * 1024),
    "image/png": ("png", 10 * 1024 * 1024),
    "image/webp": ("webp", 10 * 1024 * 1024),
    "image/gif": ("gif", 10 * 1024 * 1024),
    "video/mp4": ("mp4", 200 * 1024 * 1024),
}
if tuple(TYPES) != get_args(MediaType):
    raise RuntimeError(f"media.TYPES {tuple(TYPES)} and MediaType {get_args(MediaType)} differ")
UPLOAD_EXPIRES_SECONDS = 900
HASH_CHECK_BYTES = 50 * 1024 * 1024  # re-hash of an already published object (they were hashed when staged)
STAGING_PREFIX = "uploads/staging/"
MAX_STAGED_CHECKED = 10  # staged candidates looked at per verify (each is deleted after)


class MediaError(ValueError):
    """The referenced file is missing or not what the client said it is."""


def media_key(sha256: str, content_type: str) -> str:
    return f"media/{sha256}.{TYPES[content_type][0]}"


def staging_prefix(sha256: str) -> str:
    return f"{STAGING_PREFIX}{sha256}/"


def check_request(size: int, content_type: str) -> None:
    if content_type not in TYPES:
        raise MediaError(f"type must be one of {', '.join(TYPES)}")
    limit = TYPES[content_type][1]
    if size > limit:
        raise MediaError(f"{content_type} files are limited to {limit} bytes")


def _bucket() -> str:
    return get_settings().player_bucket


def _head(key: str) -> dict[str, Any] | None:
    try:
        return client("s3").head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _matches(head: dict[str, Any], size: int, content_type: str) -> bool:
    return head["ContentLength"] == size and head.get("ContentType") == content_type


def _sha256_of(key: str) -> str:
    body = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def presign(sha256: str, size: int, content_type: str) -> dict[str, Any]:
    """Where and how to upload; ``exists`` when the same bytes are already stored."""
    check_request(size, content_type)
    key = media_key(sha256, content_type)
    head = _head(key)
    if head is not None:
        if not _matches(head, size, content_type):
            raise MediaError("a file with this sha256 is already stored with another size or type")
        return {"key": key, "exists": True, "upload": None}
    staging = f"{staging_prefix(sha256)}{secrets.token_hex(16)}"
    post = client("s3").generate_presigned_post(
        Bucket=_bucket(),
        Key=staging,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )
    return {
        "key": key,
        "exists": False,
        "upload": {"url": post["url"], "fields": post["fields"], "expires_in": UPLOAD_EXPIRES_SECONDS},
    }


def _publish_staged(sha256: str, size: int, content_type: str, key: str) -> bool:
    """Copy the first staged upload that really is these bytes to ``key``; delete what was looked at."""
    s3 = client("s3")
    listed = s3.list_objects_v2(Bucket=_bucket(), Prefix=staging_prefix(sha256), MaxKeys=MAX_STAGED_CHECKED)
    found = False
    for obj in listed.get("Contents", []):
        staged = obj["Key"]
        if not found:
            head = _head(staged)
            if head is not None and _matches(head, size, content_type) and _sha256_of(staged) == sha256:
                if _head(key) is None:  # never rewrite a published object (a racing copy writes the same bytes)
                    s3.copy_object(
                        Bucket=_bucket(),
                        Key=key,
                        CopySource={"Bucket": _bucket(), "Key": staged},
                        MetadataDirective="COPY",
                    )
                found = True
        s3.delete_object(Bucket=_bucket(), Key=staged)
    return found


def verify(sha256: str, size: int, content_type: str) -> dict[str, Any]:
    """The media entry content stores, after checking (and if staged, publishing) the uploaded object."""
    check_request(size, content_type)
    key = media_key(sha256, content_type)
    head = _head(key)
    if head is None:
        if not _publish_staged(sha256, size, content_type, key):
            raise MediaError("no upload of this file with this sha256, size and type was found")
    elif not _matches(head, size, content_type):
        raise MediaError("the stored file's size or type differs from the request")
    elif size <= HASH_CHECK_BYTES and _sha256_of(key) != sha256:
        # only objects written before staging existed (or by hand) can get here
        client("s3").delete_object(Bucket=_bucket(), Key=key)
        raise MediaError("the stored file does not match its sha256; it was removed")
    return {"key": key, "type": content_type, "size": size, "sha256": sha256}
