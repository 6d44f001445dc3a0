"""Upload ``player_static/`` to ``player/`` in the player bucket, with the right cache headers.

Used by ``make dev`` and by deployment alike (``python -m tools.upload_player
<bucket>`` with AWS credentials).  No build step is needed to *run* the player;
this upload only adds cache-friendly names: ``player.js`` and ``player.css``
are also stored as ``player.<hash>.js``/``.css`` and cached for a year
(``immutable``), and ``index.html`` and ``sw.js`` — rewritten to name those
files and carry the release version — are stored ``no-cache`` so screens pick
up a new release on their next load.  The console's build (``console/dist``,
made by ``make console``) goes to ``console/`` in the same bucket.
"""

from __future__ import annotations

import argparse
import hashlib
import mimetypes
from pathlib import Path

from chalicelib.aws import client

SOURCE = Path(__file__).resolve().parent.parent / "player_static"
PREFIX = "player/"
LONG = "public, max-age=31536000, immutable"
SHORT = "no-cache"
VERSIONED = ("player.js", "player.css")
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def release_files(source: Path = SOURCE) -> dict[str, tuple[bytes, str]]:
    """Object key (below ``player/``) → (body, Cache-Control) for one release."""
    files = {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file() and not p.name.startswith(".")}
    release = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()[:12]
    renamed = {}
    for name in VERSIONED:
        if name in files:
            stem, ext = name.rsplit(".", 1)
            renamed[name] = f"{stem}.{hashlib.sha256(files[name]).hexdigest()[:10]}.{ext}"
    out: dict[str, tuple[bytes, str]] = {}
    for name, body in files.items():
        if name in ("index.html", "sw.js"):
            text = body.decode()
            for old, new in renamed.items():
                text = text.replace(f'"{old}"', f'"{new}"').replace(f"./{old}", f"./{new}")
            text = text.replace('"dev-build"', f'"{release}"')
            out[name] = (text.encode(), SHORT)
        else:
            text_body = body.replace(b'"dev-build"', f'"{release}"'.encode()) if name == "player.js" else body
            out[name] = (text_body, SHORT)
            if name in renamed:
                out[renamed[name]] = (text_body, LONG)
    return out


def upload_player(bucket: str, source: Path = SOURCE) -> dict[str, int]:
    """Upload one release; returns key → bytes."""
    s3 = client("s3")
    sizes = {}
    for name, (body, cache_control) in release_files(source).items():
        ext = "." + name.rsplit(".", 1)[-1]
        content_type = CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=PREFIX + name, Body=body, ContentType=content_type, CacheControl=cache_control)
        sizes[PREFIX + name] = len(body)
    return sizes


CONSOLE_DIST = SOURCE.parent / "console" / "dist"
CONSOLE_PREFIX = "console/"


def upload_console(bucket: str, dist: Path = CONSOLE_DIST) -> dict[str, int]:
    """Upload the console's Vite build to ``console/``: hashed ``assets/`` immutable, the rest ``no-cache``.

    Returns key → bytes; nothing when the console has not been built (``make console``).
    """
    if not (dist / "index.html").is_file():
        return {}
    s3 = client("s3")
    sizes = {}
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        name = path.relative_to(dist).as_posix()
        ext = path.suffix
        content_type = CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        cache_control = LONG if name.startswith("assets/") else SHORT
        body = path.read_bytes()
        s3.put_object(
            Bucket=bucket, Key=CONSOLE_PREFIX + name, Body=body, ContentType=content_type, CacheControl=cache_control
        )
        sizes[CONSOLE_PREFIX + name] = len(body)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bucket")
    args = parser.parse_args()
    for key, size in {**upload_player(args.bucket), **upload_console(args.bucket)}.items():
        print(f"{size:>8}  s3://{args.bucket}/{key}")


if __name__ == "__main__":
    main()
