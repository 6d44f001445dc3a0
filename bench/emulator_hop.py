"""Emulator bench: one table request through moto's HTTP server (``make dev``) against moto in-process (the tests).

``make dev`` and its subprocesses reach moto over HTTP, through
``AWS_ENDPOINT_URL``; the tests' own calls reach it in-process (tests/conftest.py).
This measures what the hop costs per request, the reason for the tests'
choice: the same pynamodb writes and reads, in one
process, alternately through the server (``devstack.moto_server``) and through
moto's in-process mock (``mock_aws``, no socket), rounds interleaved so a busy
machine slows both alike.  The two share moto's backends, so each round uses
its own keys.

    python -m bench.emulator_hop [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("STAGE", "bench")


def _round(prefix: str, requests: int) -> float:
    """Seconds per request for ``requests`` writes and as many reads of one table."""
    from chalicelib.models import Unit

    half = requests // 2
    started = time.perf_counter()
    for i in range(half):
        Unit(f"{prefix}{i}", root_id="r", path=f"r/{prefix}{i}/", name="科协", kind="community").save()
    for i in range(half):
        Unit.get(f"{prefix}{i}")
    return (time.perf_counter() - started) / (2 * half)


def _fresh_clients() -> None:
    """pynamodb caches each model's client with its endpoint: forget it when the endpoint changes."""
    from chalicelib.models import Unit

    Unit._connection = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from moto import mock_aws

    from chalicelib.models import Unit
    from devstack.moto_server import start_moto

    server, endpoint = start_moto()
    in_process = mock_aws()
    in_process.start()  # from here on, calls without an endpoint stay in this process
    samples: dict[str, list[float]] = {"server": [], "in_process": []}
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        _fresh_clients()
        Unit.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        for n in range(args.rounds):
            for mode in samples:
                if mode == "server":
                    os.environ["AWS_ENDPOINT_URL"] = endpoint
                else:
                    os.environ.pop("AWS_ENDPOINT_URL", None)
                _fresh_clients()
                samples[mode].append(_round(f"{mode}-{n}-", args.requests))
    finally:
        in_process.stop()
        server.stop()
    base = statistics.median(samples["in_process"])
    via_server = statistics.median(samples["server"])
    print(f"{args.requests} requests a round (half PutItem, half GetItem), median of {args.rounds} rounds:")
    print(f"  moto in-process (baseline) {base * 1000:5.2f} ms a request")
    print(f"  moto's HTTP server         {via_server * 1000:5.2f} ms a request  -> {via_server / base:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
