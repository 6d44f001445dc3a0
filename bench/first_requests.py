"""First-request bench: what a process pays to make its table models' DynamoDB clients, shared sessions against not.

A Lambda's first invocation makes one pynamodb connection per table it touches.
pynamodb alone gives each a botocore session of its own, which parses
DynamoDB's service description again; ``chalicelib.models.connection`` shares
one session per thread.  Each sample is a fresh interpreter that imports the
models and makes the clients of a set of tables (no request is sent: the cost
is the client's making).  The baseline is the same process with pynamodb's
own per-connection sessions put back.  Runs are interleaved (baseline, shared,
baseline, ...) so a busy machine slows both alike; medians are compared.

    python -m bench.first_requests [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

# the tables a first WeChat message reaches (follow by QR code: the account, the screen, the callback's
# de-duplication record, the subscription, the fan, the daily counters), and every table
TABLE_SETS = {
    "callback": ["Account", "Screen", "CallbackRecord", "Subscription", "Fan", "DailyStat"],
    "all": None,
}

SCRIPT = """
import json, sys, time
mode, names = sys.argv[1], json.loads(sys.argv[2])
import botocore.session
import chalicelib.models as models
if mode == "per_connection":  # pynamodb's own behaviour
    from pynamodb.connection import base
    base.get_session = botocore.session.get_session
chosen = [getattr(models, n) for n in names] if names else models.ALL_MODELS
started = time.perf_counter()
for model in chosen:
    model._get_connection().connection.client
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "clients": len(chosen)}))
"""


def sample(mode: str, names: list[str] | None) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "STAGE": "dev",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, json.dumps(names)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    for label, names in TABLE_SETS.items():
        samples: dict[str, list[float]] = {"per_connection": [], "shared": []}
        clients = 0
        for _ in range(args.repeat):
            for mode in samples:
                result = sample(mode, names)
                samples[mode].append(result["seconds"])
                clients = int(result["clients"])
        base, shared = (statistics.median(samples[m]) for m in ("per_connection", "shared"))
        print(
            f"{label:8} {clients:2d} clients: pynamodb's own sessions {base * 1000:6.0f} ms, "
            f"one per thread {shared * 1000:5.0f} ms  -> {shared / base:4.2f}x (median of {args.repeat})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
