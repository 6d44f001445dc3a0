"""Configuration, read from the environment only.

The same code runs in Lambda, under ``make dev`` and in tests; the only thing
that differs is the environment.  Every resource name has its own variable
(set per stage in ``.chalice/config.json``) with a default derived from
``STAGE`` so that a bare checkout works locally.  AWS endpoints are *not*
configured here: boto3 and pynamodb both resolve ``AWS_ENDPOINT_URL`` the
standard way, which is how the local emulator is reached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one process."""

    stage: str
    region: str
    table_prefix: str
    push_queue_name: str
    send_queue_name: str
    manifest_queue_name: str
    player_bucket: str
    secrets_prefix: str
    wechat_api_base: str
    wechat_oauth_base: str
    public_base_url: str
    cdn_base_url: str

    @classmethod
    def from_env(cls) -> Settings:
        stage = _env("STAGE", "dev")
        base = f"kepuscreen-{stage}"
        return cls(
            stage=stage,
            region=_env("AWS_DEFAULT_REGION", _env("AWS_REGION", "cn-north-1")),
            table_prefix=_env("TABLE_PREFIX", f"{base}-"),
            push_queue_name=_env("PUSH_QUEUE_NAME", f"{base}-push"),
            send_queue_name=_env("SEND_QUEUE_NAME", f"{base}-send"),
            manifest_queue_name=_env("MANIFEST_QUEUE_NAME", f"{base}-manifest"),
            player_bucket=_env("PLAYER_BUCKET", f"{base}-player"),
            secrets_prefix=_env("SECRETS_PREFIX", f"/kepuscreen/{stage}"),
            wechat_api_base=_env("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
            wechat_oauth_base=_env("WECHAT_OAUTH_BASE", "https://open.weixin.qq.com").rstrip("/"),
            public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            cdn_base_url=_env("CDN_BASE_URL", "http://127.0.0.1:8001").rstrip("/"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()``."""
    return Settings.from_env()
