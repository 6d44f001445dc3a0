"""Callback gateway benchmark: AWS requests per event and handler time against bare wechatpy.

For subscribe (a new fan following from a screen's QR code), SCAN (an existing
fan scanning another screen), unsubscribe, a text command and a retried
duplicate, it prints the DynamoDB requests each event makes (goal ≤ 2 per
event, 1 for a duplicate) and the time the whole route takes relative to bare
wechatpy parsing the same message and rendering a reply, run in the same
process (plain and safe mode).  Times are ratios, not seconds: the absolute
numbers depend on the machine, the ratio says what the gateway adds.

    python -m bench.callback [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.harness import AwsRequestCounter, start_local_aws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="events per kind")
    args = parser.parse_args()

    start_local_aws()
    from chalice.test import Client
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply

    from app import app
    from chalicelib.models import Account, Screen, Unit
    from chalicelib.secrets import store_account_secrets
    from devstack.wechat_messages import WeChatSender

    aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    Unit("bench", root_id="bench", path="bench/", name="基准单位").save()
    senders = {}
    for mode, appid in (("plain", "wxbenchplain0001"), ("safe", "wxbenchsafe00002")):
        # an account with an EncodingAESKey is in safe mode unless set otherwise (issue 10): the plain one says so
        Account(appid, unit_id="bench", name="基准", original_id=f"gh_{appid[2:14]}", message_mode=mode).save()
        store_account_secrets(appid, token="benchtoken", aes_key=aes_key, app_secret="s")
        senders[mode] = WeChatSender(appid, f"gh_{appid[2:14]}", "benchtoken", aes_key, mode=mode)
    for code in ("BENCH1", "BENCH2"):
        Screen(code, unit_id="bench", name=f"基准大屏{code}", appid="wxbenchplain0001").save()

    counter = AwsRequestCounter()
    counter.install()
    print(f"callback gateway, {args.n} events per kind, moto server on loopback\n")
    print(f"{'mode':6} {'event':12} {'DynamoDB req/event':>19} {'other AWS':>10} {'handler/bare':>13} {'own/bare':>9}")
    with Client(app) as client:
        for mode, sender in senders.items():
            crypto = WeChatCrypto(sender.token, aes_key, sender.appid)
            users = [f"o-{mode}-{i}" for i in range(args.n)]
            kinds = {
                "subscribe": [sender.follow(u, scene="BENCH1") for u in users],
                "SCAN": [sender.scan(u, "BENCH2") for u in users],
                "text": [sender.text(u, "我的订阅") for u in users],
                "unsubscribe": [sender.unfollow(u) for u in users],
            }
            kinds["duplicate"] = kinds["text"]  # WeChat retrying messages already answered

            def post(request, _sender=sender):
                response = client.http.post(
                    f"/wechat/{_sender.appid}?{request.query_string}",
                    headers={"Content-Type": "text/xml"},
                    body=request.body,
                )
                assert response.status_code == 200, response.body
                return response

            post(sender.text("o-warm", "帮助"))  # warm the process caches, as a warm Lambda would be
            for kind, requests in kinds.items():
                aws_before = counter.seconds
                with counter.measure() as counts:
                    started = time.perf_counter()
                    for request in requests:
                        post(request)
                    handler_seconds = time.perf_counter() - started
                bare_seconds = _bare(requests, sender, crypto, parse_message, TextReply)
                dynamo = counter.total(counts, "dynamodb") / len(requests)
                other = (counter.total(counts) - counter.total(counts, "dynamodb")) / len(requests)
                own_seconds = handler_seconds - (counter.seconds - aws_before)
                print(
                    f"{mode:6} {kind:12} {dynamo:19.2f} {other:10.2f} {handler_seconds / bare_seconds:12.1f}x"
                    f" {own_seconds / bare_seconds:8.1f}x"
                )
    counter.uninstall()
    print("\nhandler/bare: full route (verify, decrypt, de-duplicate, decide, one transaction, reply, encrypt)")
    print("divided by wechatpy alone parsing (and in safe mode decrypting) the same messages and rendering a reply.")
    print("own/bare: the same, less the time spent waiting on DynamoDB (the emulator's latency is not ours).")
    fans = Screen.get("BENCH1").fan_count
    print(f"check: BENCH1 fan count after {args.n} follows per mode and as many unfollows: {fans} (expected 0)")


def _bare(requests, sender, crypto, parse_message, text_reply_cls) -> float:
    """wechatpy parsing and replying to the same messages: the floor any gateway pays."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        for request in requests:
            body = request.body
            if sender.mode != "plain":
                q = request.query
                body = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
            message = parse_message(body)
            reply = text_reply_cls(message=message, content="您订阅了 1 块大屏").render()
            if sender.mode != "plain":
                crypto.encrypt_message(reply, request.query["nonce"])
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
