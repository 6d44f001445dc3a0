"""``make dev``: the whole system on this machine — no AWS account, no WeChat account, no Docker.

Starts, in one process:
- AWS emulated by moto in server mode, with every table, queue (and its
  dead-letter queue) and the bucket created from the shared definitions;
- the WeChat API stand-in (``devstack.wechat_standin``);
- the Chalice app over HTTP (Chalice's local server), the same code Lambda runs;
- the SQS pump delivering queue messages to the app's SQS handlers as Lambda would;
- the stream pump delivering the tables' DynamoDB stream records to the analytics roll-up consumers;
- the local CDN serving the player bucket and the console, forwarding ``/api/*``
  to the API so the console is same-origin;
and seeds the demo data.  Every client finds the emulator through
``AWS_ENDPOINT_URL`` and WeChat through ``WECHAT_API_BASE``, exactly as in
production.  Ctrl-C stops everything; state lives in memory, so a new start is
a fresh, seeded system.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

HOST = "127.0.0.1"
PORTS = {
    "moto": int(os.environ.get("KEPU_MOTO_PORT", "4566")),
    "wechat": int(os.environ.get("KEPU_WECHAT_PORT", "8901")),
    "api": int(os.environ.get("KEPU_API_PORT", "8000")),
    "cdn": int(os.environ.get("KEPU_CDN_PORT", "8001")),
}
STATE_FILE = Path(".local/dev-state.json")


def main() -> None:
    from devstack.aws_local import configure_env, provision, start_moto
    from devstack.wechat_standin import WeChatStandIn

    moto_server, endpoint = start_moto(HOST, PORTS["moto"])
    configure_env(endpoint)
    standin = WeChatStandIn(HOST, PORTS["wechat"]).start()
    api_base = f"http://{HOST}:{PORTS['api']}"
    cdn_base = f"http://{HOST}:{PORTS['cdn']}"
    os.environ.update(
        STAGE=os.environ.get("STAGE", "dev"),
        WECHAT_API_BASE=standin.base_url,
        WECHAT_OAUTH_BASE=standin.base_url,
        PUBLIC_BASE_URL=api_base,
        CDN_BASE_URL=cdn_base,
    )
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    # Only now import the application: table names and endpoints are read from the environment.
    from app import app
    from chalicelib.models import ALL_MODELS
    from chalicelib.resources import queue_specs
    from chalicelib.secrets import ensure_app_signing_key
    from chalicelib.settings import get_settings
    from devstack import demo
    from devstack.cdn import start_cdn
    from devstack.local_api import start_api
    from devstack.sqs_pump import SqsPump
    from devstack.stream_pump import StreamPump
    from tools.upload_player import upload_console, upload_player

    get_settings.cache_clear()
    settings = get_settings()
    provision(ALL_MODELS, queue_specs(settings), settings.player_bucket)
    ensure_app_signing_key()
    upload_player(settings.player_bucket)
    console_built = bool(upload_console(settings.player_bucket))
    cdn = start_cdn(settings.player_bucket, HOST, PORTS["cdn"], api_base=api_base)
    api = start_api(app, HOST, PORTS["api"])
    stop = threading.Event()
    pump = SqsPump(app, specs=queue_specs(settings), stage=settings.stage)
    pump.run_forever(stop)
    StreamPump(app, stage=settings.stage).run_forever(stop)

    info = demo.seed(standin)
    _write_state(info, api_base, standin.base_url, endpoint)
    _print_banner(info, api_base, cdn_base, standin.base_url, endpoint, console_built)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    print("\nStopping…")
    stop.set()
    api.shutdown()
    cdn.shutdown()
    standin.stop()
    moto_server.stop()
    print("Stopped.")


def _write_state(info: dict, api_base: str, wechat_base: str, aws_endpoint: str) -> None:
    """What the simulator needs: local demo secrets only, in a git-ignored file."""
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps({
        "api_base": api_base, "wechat_api_base": wechat_base, "aws_endpoint": aws_endpoint,
        "accounts": info["accounts"],
        "screens": [{k: s.get(k) for k in ("screen_id", "name", "qr_url", "player_key")} for s in info["screens"]],
        "root_api_key": info["users"][0]["api_key"],
        "logins": [{k: u.get(k) for k in ("username", "password", "role", "unit_id", "user_id")}
                   for u in info["users"] if u.get("username")],
    }, ensure_ascii=False, indent=2))


def _print_banner(info: dict, api_base: str, cdn_base: str, wechat_base: str, aws_endpoint: str,
                  console_built: bool = False) -> None:
    line = "─" * 78
    print(f"\n{line}\nkepuscreen is running locally\n{line}")
    if console_built:
        print(f"  Console          {cdn_base}/console/   (same origin as {cdn_base}/api/v1)")
    else:
        print("  Console          not built (make console)")
    print(f"  Admin API        {api_base}/api/v1   (OpenAPI: {api_base}/api/v1/openapi.json)")
    print(f"  WeChat callback  {api_base}/wechat/{{appid}}")
    print(f"  WeChat stand-in  {wechat_base}   (inboxes: {wechat_base}/_standin/inbox?openid=…)")
    print(f"  AWS (moto)       {aws_endpoint}")
    print(f"  CDN              {cdn_base}")
    print("\nOfficial accounts (demo secrets, local only):")
    for a in info["accounts"]:
        print(f"  {a['appid']}  {a['name']} ({a['type']}, {a['mode']} mode)  token={a['token']}"
              + (f"  EncodingAESKey={a['aes_key']}" if a.get("aes_key") else ""))
        print(f"      phone: {api_base}/m/{a['appid']}/subscribe")
    print("\nScreens (open the player URL in a browser; kiosk mode on a real screen):")
    for s in info["screens"]:
        print(f"  {s['screen_id']}  {s['name']}  fans={s.get('fan_count', 0)}")
        print(f"      player: {cdn_base}/player/index.html?screen={s['screen_id']}&key={s['player_key']}")
    print("\nConsole logins (demo passwords, local only):")
    for u in info["users"]:
        if u.get("username"):
            print(f"  {u['username']:<18} {u['password']:<18} {u['role']:<12} {u['unit_name']}")
    print("\nAdmin API keys (Authorization: Bearer …):")
    for u in info["users"]:
        print(f"  {u['role']:<12} {u['unit_name']:<14} {u['api_key']}")
    print("\nAct as a WeChat user (another terminal):")
    print("  .venv/bin/python -m devstack.simulator follow --scene " + info["screens"][0]["screen_id"])
    print("  .venv/bin/python -m devstack.simulator text 帮助")
    print(f"{line}\nCtrl-C stops everything.\n")


if __name__ == "__main__":
    main()
