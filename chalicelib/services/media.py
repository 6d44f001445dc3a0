"""Media uploads straight to the bucket by pre-signed POST, content-addressed.

The client names the file by its SHA-256, size and type; the policy it gets
fixes the key (``media/<sha256>.<ext>``), the exact size and the content type,
so S3 itself refuses anything else.  Before content may reference a file,
``verify`` checks the stored object (size and type, and the hash itself for
files up to ``HASH_CHECK_BYTES``) and deletes a forged one: an object under a
hash is the bytes of that hash, which is what lets the CDN cache it forever.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.settings import get_settings

TYPES = {  # content type -> (extension, max bytes)
    "image/jpeg": ("jpg", 10 * 1024 * 1024),
    "image/png": ("png", 10 * 1024 * 1024),
    "image/webp": ("webp", 10 * 1024 * 1024),
    "image/gif": ("gif", 10 * 1024 * 1024),
    "video/mp4": ("mp4", 200 * 1024 * 1024),
}
UPLOAD_EXPIRES_SECONDS = 900
HASH_CHECK_BYTES = 50 * 1024 * 1024


class MediaError(ValueError):
    """The referenced file is missing or not what the client said it is."""


def media_key(sha256: str, content_type: str) -> str:
    return f"media/{sha256}.{TYPES[content_type][0]}"


def check_request(size: int, content_type: str) -> None:
    if content_type not in TYPES:
        raise MediaError(f"type must be one of {', '.join(TYPES)}")
    limit = TYPES[content_type][1]
    if size > limit:
        raise MediaError(f"{content_type} files are limited to {limit} bytes")


def _head(key: str) -> dict[str, Any] | None:
    try:
        return client("s3").head_object(Bucket=get_settings().player_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def presign(sha256: str, size: int, content_type: str) -> dict[str, Any]:
    """Where and how to upload; ``exists`` when the same bytes are already stored."""
    check_request(size, content_type)
    key = media_key(sha256, content_type)
    head = _head(key)
    if head is not None and head["ContentLength"] == size and head.get("ContentType") == content_type:
        return {"key": key, "exists": True, "upload": None}
    post = client("s3").generate_presigned_post(
        Bucket=get_settings().player_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )
    return {"key": key, "exists": False, "upload": {"url": post["url"], "fields": post["fields"],
                                                    "expires_in": UPLOAD_EXPIRES_SECONDS}}


def verify(sha256: str, size: int, content_type: str) -> dict[str, Any]:
    """The media entry content stores, after checking the uploaded object."""
    check_request(size, content_type)
    key = media_key(sha256, content_type)
    head = _head(key)
    if head is None:
        raise MediaError("the file has not been uploaded")
    if head["ContentLength"] != size or head.get("ContentType") != content_type:
        raise MediaError("the stored file's size or type differs from the request")
    if size <= HASH_CHECK_BYTES:
        body = client("s3").get_object(Bucket=get_settings().player_bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            client("s3").delete_object(Bucket=get_settings().player_bucket, Key=key)
            raise MediaError("the stored file does not match its sha256; it was removed")
    return {"key": key, "type": content_type, "size": size, "sha256": sha256}
