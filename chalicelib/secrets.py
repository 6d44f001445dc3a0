"""Account secrets in SSM Parameter Store, never in a table, a response or a log.

Each account has up to four SecureString parameters under
``{SECRETS_PREFIX}/accounts/{appid}/``: ``app_secret``, ``token``,
``aes_key`` and ``aes_key_previous`` (kept for the rotation window WeChat
allows).  Reads go through Powertools' parameters utility, which caches them in
the Lambda process for ``max_age`` seconds so a callback costs no SSM call in
the common case; writes invalidate that cache.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

# From their defining modules, not the ``parameters`` package: its ``__init__`` also loads the AppConfig,
# DynamoDB and Secrets Manager providers, which the callback function defers (chalicelib.entries.callback).
from aws_lambda_powertools.utilities.parameters.base import clear_caches
from aws_lambda_powertools.utilities.parameters.ssm import SSMProvider

from chalicelib.aws import client
from chalicelib.settings import get_settings

SECRET_NAMES = ("app_secret", "token", "aes_key", "aes_key_previous")
CACHE_SECONDS = 300

_provider: SSMProvider | None = None


def _ssm_provider() -> SSMProvider:
    global _provider
    if _provider is None:
        _provider = SSMProvider(boto3_client=client("ssm"))
    return _provider


def _path(appid: str) -> str:
    return f"{get_settings().secrets_prefix}/accounts/{appid}"


@dataclass(frozen=True, repr=False)
class AccountSecrets:
    """An account's secrets; ``repr`` is redacted so they never reach a log line."""

    app_secret: str | None = None
    token: str | None = None
    aes_key: str | None = None
    aes_key_previous: str | None = None

    def __repr__(self) -> str:
        present = [name for name in SECRET_NAMES if getattr(self, name)]
        return f"AccountSecrets(set={present})"

    def names_set(self) -> set[str]:
        return {name for name in SECRET_NAMES if getattr(self, name)}


def load_account_secrets(appid: str, *, force_fetch: bool = False) -> AccountSecrets:
    """All secrets of one account, from the process cache or one SSM call."""
    values = _ssm_provider().get_multiple(
        _path(appid),
        decrypt=True,
        max_age=CACHE_SECONDS,
        force_fetch=force_fetch,
        raise_on_transform_error=False,
    )
    return AccountSecrets(**{name: _text(values.get(name)) for name in SECRET_NAMES})


def _text(value: object) -> str | None:
    """A parameter's value as SSM returns it (a string: no transform is asked for), or None when absent or empty."""
    return value if isinstance(value, str) and value else None


def store_account_secrets(appid: str, **secrets: str | None) -> AccountSecrets:
    """Write (or, with ``None``, delete) secrets; returns the fresh set.

    Rotating ``aes_key`` keeps the old one as ``aes_key_previous`` unless the
    caller passes that explicitly.
    """
    unknown = set(secrets) - set(SECRET_NAMES)
    if unknown:
        raise ValueError(f"unknown secret names: {sorted(unknown)}")
    ssm = client("ssm")
    if secrets.get("aes_key") and "aes_key_previous" not in secrets:
        current = load_account_secrets(appid, force_fetch=True).aes_key
        if current and current != secrets["aes_key"]:
            secrets["aes_key_previous"] = current
    for name, value in secrets.items():
        path = f"{_path(appid)}/{name}"
        if value is None:
            with contextlib.suppress(ssm.exceptions.ParameterNotFound):
                ssm.delete_parameter(Name=path)
        else:
            ssm.put_parameter(Name=path, Value=value, Type="SecureString", Overwrite=True)
    clear_caches()
    return load_account_secrets(appid, force_fetch=True)


def app_signing_key() -> str:
    """The key that signs phone-page sessions and push links (one per stage)."""
    path = f"{get_settings().secrets_prefix}/app/signing_key"
    key = _text(_ssm_provider().get(path, decrypt=True, max_age=CACHE_SECONDS))
    if key is None:
        raise RuntimeError(f"{path} is empty")
    return key


def ensure_app_signing_key() -> None:
    """Create the stage's signing key if missing (deploy and ``make dev`` call this)."""
    import secrets as _secrets

    ssm = client("ssm")
    path = f"{get_settings().secrets_prefix}/app/signing_key"
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name=path, Value=_secrets.token_urlsafe(48), Type="SecureString", Overwrite=False)
