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

import errno
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

HOST = "127.0.0.1"
PORT_VARIABLES = {
    "moto": ("KEPU_MOTO_PORT", 4566),
    "wechat": ("KEPU_WECHAT_PORT", 8901),
    "api": ("KEPU_API_PORT", 8000),
    "cdn": ("KEPU_CDN_PORT", 8001),
}
PORTS = {name: int(os.environ.get(var, str(default))) for name, (var, default) in PORT_VARIABLES.items()}
STATE_FILE = Path(".local/dev-state.json")


def busy_ports(host: str = HOST, ports: dict[str, int] | None = None) -> list[str]:
    """One line per port that cannot be bound, naming the variable that moves it.

    Checked before anything starts: moto's server thread would otherwise wait forever for a port
    it never got, and ``make dev`` would hang without a word.
    """
    problems = []
    for name, port in (ports or PORTS).items():
        variable = PORT_VARIABLES[name][0]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
                problems.append(f"port {port} ({name}) {why}: stop what holds it, or set {variable}=<free port>")
    return problems


def system_account_directory(appid: str) -> tuple[str, str] | None:
    """The stand-in's view of an account the system has: its app secret and type, from the local tables
    and parameter store.  Accounts created through the admin API under ``make dev`` thus get tokens,
    QR codes and menus from the stand-in with no extra step."""
    from chalicelib.models.accounts import Account
    from chalicelib.secrets import load_account_secrets

    try:
        account = Account.get(appid)
    except Account.DoesNotExist:
        return None
    secret = load_account_secrets(appid, force_fetch=True).app_secret
    kind = "subscription" if account.account_type == "subscription" else "service"
    return (secret, kind) if secret else None


def main() -> None:
    problems = busy_ports()
    if problems:
        print("make dev cannot start:\n  " + "\n  ".join(problems), file=sys.stderr)
        raise SystemExit(1)

    from devstack.moto_server import configure_env, start_moto
    from devstack.provisioning import provision
    from devstack.wechat_standin import WeChatStandIn

    moto_server, endpoint = start_moto(HOST, PORTS["moto"])
    configure_env(endpoint)
    standin = WeChatStandIn(HOST, PORTS["wechat"], directory=system_account_directory).start()
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
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray here (chalicelib.tracing)

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
    history_days = int(os.environ.get("KEPU_DEMO_HISTORY_DAYS", "90"))
    if history_days > 0:
        threading.Thread(
            target=_seed_history, args=(standin, info, history_days), daemon=True, name="demo-history"
        ).start()
    _write_state(info, api_base, standin.base_url, endpoint, settings.stage)
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


def _seed_history(standin, info: dict, days: int) -> None:
    """Analytics history (90 days unless ``KEPU_DEMO_HISTORY_DAYS`` says otherwise; 0 = none), in the
    background: the system is usable meanwhile, charts fill in."""
    from devstack.demo_history import seed_history

    try:
        counts = seed_history(standin, info, days)
        print(f"Demo history: {days} days seeded for the analytics charts ({counts}).")
    except Exception as exc:  # the demo's charts only; never stop the local system for it
        print(f"Demo history could not be seeded: {exc!r}")


def _write_state(info: dict, api_base: str, wechat_base: str, aws_endpoint: str, stage: str = "dev") -> None:
    """What the simulator and ``tools.create_root_admin`` need: local demo secrets only, git-ignored."""
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(
        json.dumps(
            {
                "api_base": api_base,
                "wechat_api_base": wechat_base,
                "aws_endpoint": aws_endpoint,
                "stage": stage,
                "pid": os.getpid(),
                "accounts": info["accounts"],
                "screens": [
                    {k: s.get(k) for k in ("screen_id", "name", "qr_url", "player_key")} for s in info["screens"]
                ],
                "root_api_key": info["users"][0]["api_key"],
                "logins": [
                    {k: u.get(k) for k in ("username", "password", "role", "unit_id", "user_id")}
                    for u in info["users"]
                    if u.get("username")
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
    )


def _print_banner(
    info: dict, api_base: str, cdn_base: str, wechat_base: str, aws_endpoint: str, console_built: bool = False
) -> None:
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
        print(
            f"  {a['appid']}  {a['original_id']}  {a['name']} ({a['type']}, {a['mode']} mode)  token={a['token']}"
            + (f"  EncodingAESKey={a['aes_key']}" if a.get("aes_key") else "")
        )
        print(f"      phone: {api_base}/m/{a['appid']}/subscribe")
    print("\nScreens (open the player URL in a browser; kiosk mode on a real screen):")
    for s in info["screens"]:
        print(f"  {s['screen_id']}  {s['name']}  fans={s.get('fan_count', 0)}")
        print(f"      player: {cdn_base}/player/index.html?screen={s['screen_id']}#key={s['player_key']}")
    print("  (original id gh_…: the ToUserName of every callback message)")
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
    print("\nA root unit and admin key of your own (another terminal, while this runs):")
    print("  .venv/bin/python -m tools.create_root_admin --unit-name 江苏省科协 --user-name 运维")
    print(
        "  Analytics: demo history is being seeded in the background (KEPU_DEMO_HISTORY_DAYS, default 90;"
        " docs/analytics.md)."
    )
    print(f"{line}\nCtrl-C stops everything.\n")


if __name__ == "__main__":
    main()
