"""Act as a WeChat user against the local system's callback, exactly as WeChat would.

With ``make dev`` running, in another terminal::

    .venv/bin/python -m devstack.simulator follow --scene NJ001          # follow from a screen's QR code
    .venv/bin/python -m devstack.simulator scan NJ002                    # an existing fan scans a screen
    .venv/bin/python -m devstack.simulator scan --qr-url http://weixin.qq.com/q/…
    .venv/bin/python -m devstack.simulator text "订阅 NJ002"
    .venv/bin/python -m devstack.simulator click LATEST
    .venv/bin/python -m devstack.simulator unfollow
    .venv/bin/python -m devstack.simulator inbox

Messages are signed with the account's token and, for safe-mode accounts,
encrypted with its EncodingAESKey (``devstack.wechat_messages``).  The
stand-in is told what the user did, as WeChat knows it, so its
customer-service windows and follower checks match.  Prints the passive reply
and what the stand-in has pushed to the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import requests

from devstack.wechat_messages import WeChatSender, reply_content
from devstack.wechat_standin import StandInClient

STATE_FILE = Path(".local/dev-state.json")


def _load_state() -> dict:
    if not STATE_FILE.exists():
        sys.exit("No local system found: start it with `make dev` first (it writes .local/dev-state.json).")
    return json.loads(STATE_FILE.read_text())


def _account(state: dict, appid: str | None) -> dict:
    accounts = state["accounts"]
    if appid is None:
        return accounts[0]
    for account in accounts:
        if account["appid"] == appid:
            return account
    sys.exit(f"unknown appid {appid}; known: {', '.join(a['appid'] for a in accounts)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.simulator", description="Act as a WeChat user.")
    parser.add_argument("--appid", help="official account (default: the first demo account)")
    parser.add_argument("--openid", default="o-simulated-user", help="who you are (default: o-simulated-user)")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        choices=range(0, 4),
        help="deliver the same request again this many times, as WeChat does when unanswered",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    follow = sub.add_parser("follow", help="follow the account (optionally from a screen's QR code)")
    follow.add_argument("--scene", help="screen code of the QR code scanned")
    follow.add_argument("--qr-url", help="the QR code's URL (as the WeChat QR API returned it)")
    scan = sub.add_parser("scan", help="an existing fan scans a screen's QR code")
    scan.add_argument("scene", nargs="?", help="screen code")
    scan.add_argument("--qr-url")
    sub.add_parser("unfollow", help="unfollow the account")
    click = sub.add_parser("click", help="click a menu item")
    click.add_argument("key", help="MY_SCREENS, LATEST or HOW_TO_SUBSCRIBE")
    text = sub.add_parser("text", help="send a text message")
    text.add_argument("content")
    sub.add_parser("inbox", help="show what has been pushed to this user")
    args = parser.parse_args(argv)

    state = _load_state()
    account = _account(state, args.appid)
    standin = StandInClient(state["wechat_api_base"])
    sender = WeChatSender(
        account["appid"],
        account["original_id"],
        account["token"],
        account.get("aes_key"),
        mode=account.get("mode", "plain"),
    )
    openid = args.openid
    scene = getattr(args, "scene", None)
    if getattr(args, "qr_url", None):
        scene = standin.qrcode_scene(args.qr_url)

    if args.action == "inbox":
        _print_inbox(standin, openid)
        return 0
    if args.action == "follow":
        standin.follow(sender.appid, openid)
        request = sender.follow(openid, scene=scene)
    elif args.action == "scan":
        if not scene:
            parser.error("scan needs a screen code or --qr-url")
        standin.record_interaction(sender.appid, openid, "scan")
        request = sender.scan(openid, scene)
    elif args.action == "unfollow":
        standin.unfollow(sender.appid, openid)
        request = sender.unfollow(openid)
    elif args.action == "click":
        standin.record_interaction(sender.appid, openid, "click")
        request = sender.click(openid, args.key)
    else:
        standin.record_interaction(sender.appid, openid, "message")
        request = sender.text(openid, args.content)

    url = f"{state['api_base']}/wechat/{sender.appid}?{request.query_string}"
    response = requests.post(url, data=request.body, headers={"Content-Type": "text/xml"}, timeout=10)
    for attempt in range(1, args.retries + 1):
        retry = requests.post(url, data=request.body, headers={"Content-Type": "text/xml"}, timeout=10)
        same = sender.open_reply(retry.text) == sender.open_reply(response.text) if retry.ok else False
        print(f"retry {attempt}: HTTP {retry.status_code}, {'same reply as the first' if same else 'DIFFERENT reply'}")
    print(f"[{account['name']} · {sender.mode} mode] HTTP {response.status_code}")
    if response.status_code != 200:
        print(response.text)
        return 1
    body = response.text
    reply = "" if body == "success" else reply_content(sender.open_reply(body))
    print(reply or "(no reply: success)")
    _print_inbox(standin, openid)
    return 0


def _print_inbox(standin: StandInClient, openid: str) -> None:
    inbox = standin.inbox(openid)
    print(f"\n— pushed to {openid}: {len(inbox)} message(s)")
    for item in inbox[-5:]:
        print(f"  [{item['channel']}] {json.dumps(item['payload'], ensure_ascii=False)[:200]}")


if __name__ == "__main__":
    raise SystemExit(main())
