"""Cold-start bench: how long each Lambda entry module takes to import, against ``import boto3``.

Every sample is a whole fresh interpreter (``python -S -c "import <module>"``)
over the built deployment package extracted as Lambda extracts it to
``/var/task`` (the package's own boto3, its shipped bytecode, no site-packages),
timed from spawn to exit: what a Lambda init counts -- the interpreter, every
import, and everything the module does at load.  The baseline is a process
importing only ``boto3`` from the same package (what any Python Lambda that
talks to AWS pays).  The runs are interleaved (baseline, entry, baseline, ...)
so a busy machine slows both alike, and the median of ``--repeat`` runs is
reported as a ratio.  The callback's target is at most 1.5x.

    python -m infra.build --stage dev --partition aws-cn   # the package to measure
    python -m bench.cold_start [--repeat 11] [--entries callback public app ...] [--package .../deployment.zip]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

# entry name -> what the process imports.  SQS consumers import their handler module the way Lambda does.
ENTRIES = {
    "boto3": "import boto3",
    "callback": "import chalicelib.entries.callback",
    # what the first traced invocation adds in Lambda: the Tracer, the X-Ray SDK, the botocore patch
    "callback_traced": "import chalicelib.entries.callback; from chalicelib import tracing; tracing.tracer()",
    "public": "import chalicelib.entries.public",
    "app": "import app",
    # event functions import their thin entries (chalicelib/entries/<function>.py, infra.event_entries)
    "push_planner": "import chalicelib.entries.push_planner",
    "push_sender": "import chalicelib.entries.push_sender",
    "manifest_builder": "import chalicelib.entries.rebuild_manifests",
    "push_queue_whole": "import chalicelib.handlers.push_queue",  # what each push function loaded before its entry
}
DEFAULT_PACKAGE = PROJECT / "build" / "deploy" / "dev-aws-cn" / "deployment.zip"
TARGETS = {"callback": 1.5}


def sample(task_root: Path, statement: str) -> float:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "STAGE": "dev",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    script = f"import sys; sys.path.insert(0, {str(task_root)!r}); {statement}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", script], cwd=task_root, env=env, check=True)
    return time.perf_counter() - started


def measure(task_root: Path, entries: list[str], repeat: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in ["boto3", *entries]}
    for name in samples:  # warm the page cache once
        sample(task_root, ENTRIES[name])
    for _ in range(repeat):
        for name in samples:
            samples[name].append(sample(task_root, ENTRIES[name]))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument(
        "--entries",
        nargs="*",
        default=[
            "callback",
            "callback_traced",
            "public",
            "app",
            "push_planner",
            "push_sender",
            "manifest_builder",
            "push_queue_whole",
        ],
    )
    parser.add_argument("--package", type=Path, default=DEFAULT_PACKAGE)
    args = parser.parse_args(argv)
    if not args.package.exists():
        parser.error(f"{args.package} not found: run python -m infra.build --stage dev --partition aws-cn")
    with tempfile.TemporaryDirectory(prefix="task-") as task_root, zipfile.ZipFile(args.package) as package:
        package.extractall(task_root)
        names = package.namelist()
        print(f"package: {args.package} ({len(names)} files, {sum(n.endswith('.pyc') for n in names)} .pyc)")
        samples = measure(Path(task_root), args.entries, args.repeat)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    fastest = {name: min(values) for name, values in samples.items()}  # the least disturbed run, for reference
    base = medians["boto3"]
    print(
        f"baseline: import boto3 {base * 1000:.0f} ms (median of {args.repeat} whole processes; "
        f"fastest {fastest['boto3'] * 1000:.0f} ms)"
    )
    failed = False
    for name in args.entries:
        ratio = medians[name] / base
        target = TARGETS.get(name)
        verdict = "" if target is None else (" ok" if ratio <= target else f" ABOVE TARGET {target}x")
        failed |= target is not None and ratio > target
        print(
            f"{name:18} {medians[name] * 1000:6.0f} ms  {ratio:4.2f}x boto3{verdict}"
            f"   (fastest runs: {fastest[name] / fastest['boto3']:4.2f}x)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
