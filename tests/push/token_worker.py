"""Runs in a separate process for the token tests: several threads, each its own provider, like Lambda workers."""

from __future__ import annotations

import os
import threading
import time


def run(env: dict[str, str], appid: str, threads: int, start_at: float, call_api: bool) -> list[str]:
    os.environ.update(env)
    from chalicelib.secrets import load_account_secrets
    from chalicelib.services.gateway.tokens import DynamoTokenProvider
    from chalicelib.wechat.client import KepuWeChatClient

    secret = load_account_secrets(appid).app_secret
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        provider = DynamoTokenProvider()  # one per thread: as separate as separate Lambda processes
        time.sleep(max(0.0, start_at - time.time()))
        if call_api:
            KepuWeChatClient(appid, secret, provider).user.get_followers()
        token = provider.get(appid)
        with lock:
            results.append(token)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results
