"""Run the stand-in in the foreground: ``python -m devstack.wechat_standin --port 8901 --account …``."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable

from devstack.wechat_standin.standin import WeChatStandIn


def _parse_account(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("use appid:secret[:service|subscription]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "service"


def main(argv: list[str] | None = None, serve: Callable[[WeChatStandIn], None] | None = None) -> None:
    """Run the stand-in in the foreground for the local runner or by hand."""
    parser = argparse.ArgumentParser(description="Local stand-in for the WeChat official-account API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--account", action="append", type=_parse_account, default=[], metavar="APPID:SECRET[:TYPE]")
    args = parser.parse_args(argv)
    standin = WeChatStandIn(args.host, args.port).start()
    for appid, secret, account_type in args.account:
        standin.register_account(appid, secret, account_type)
    print(f"WECHAT_API_BASE={standin.base_url}", flush=True)
    try:
        (serve or (lambda _s: threading.Event().wait()))(standin)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
