"""``make bench`` runs ``bench.callback``: it must keep running as the product changes.

It stopped at its warm-up once (its plain-mode account had an EncodingAESKey stored, so the product,
rightly, treated it as safe mode and refused plaintext with a 403) and nothing noticed.  A tiny run in a
subprocess, as ``make bench`` starts it, checks it finishes and its own consistency check holds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_callback_bench_runs_to_its_consistency_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.callback", "--n", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(expected 0)" in result.stdout
    assert "fan count after 2 follows per mode and as many unfollows: 0 (expected 0)" in result.stdout
