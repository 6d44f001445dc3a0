"""Cold-start bench: how long each Lambda entry module takes to import, against ``import boto3``.

Every sample is a whole fresh interpreter (``python -c "import <module>"``),
timed from spawn to exit, so it counts what a Lambda init counts: the
interpreter, every import, and everything the module does at load.  The
baseline is a process importing only ``boto3`` (what any Python Lambda that
talks to AWS pays).  The runs are interleaved (baseline, entry, baseline, ...)
so a busy machine slows both alike, and the median of ``--repeat`` runs is
reported as a ratio.  The callback's target is at most 1.5x.

    python -m bench.cold_start [--repeat 11] [--entries callback public app ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

# entry name -> what the process imports.  SQS consumers import their handler module the way Lambda does.
ENTRIES = {
    "boto3": "import boto3",
    "callback": "import callback_app",
    "public": "import public_app",
    "app": "import app",
    "push_planner": "import chalicelib.handlers.push_queue",
    "manifest_builder": "import chalicelib.handlers.screens",
}
TARGETS = {"callback": 1.5}


def sample(statement: str) -> float:
    env = {**os.environ, "STAGE": os.environ.get("STAGE", "dev"),
           "AWS_DEFAULT_REGION": "cn-north-1", "POWERTOOLS_LOG_LEVEL": "ERROR"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=PROJECT, env=env, check=True)
    return time.perf_counter() - started


def measure(entries: list[str], repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in ["boto3", *entries]}
    for name in samples:  # warm the page cache and the .pyc files once
        sample(ENTRIES[name])
    for _ in range(repeat):
        for name in samples:
            samples[name].append(sample(ENTRIES[name]))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--entries", nargs="*", default=["callback", "public", "app", "push_planner",
                                                         "manifest_builder"])
    args = parser.parse_args(argv)
    medians = measure(args.entries, args.repeat)
    base = medians["boto3"]
    print(f"baseline: import boto3 {base * 1000:.0f} ms (median of {args.repeat} whole processes)")
    failed = False
    for name in args.entries:
        ratio = medians[name] / base
        target = TARGETS.get(name)
        verdict = "" if target is None else (" ok" if ratio <= target else f" ABOVE TARGET {target}x")
        failed |= target is not None and ratio > target
        print(f"{name:18} {medians[name] * 1000:6.0f} ms  {ratio:4.2f}x boto3{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
