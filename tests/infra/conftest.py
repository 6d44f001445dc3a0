"""A scratch copy of the project with two throwaway SQS consumers, packaged for every stage and partition.

Packaging is the slow part of these tests (Chalice builds the deployment zip,
downloading Lambda wheels from the package index the first time), so it runs
once per test run: one build first to fill Chalice's wheel cache, then the
other three in parallel.  Each build runs ``python -m infra.build --lint``
exactly as CI and ``make deploy`` do.  Under xdist the test files land on
different workers; the first to need the packages builds them under a lock
in the run's shared temporary folder and the others read its results (the
pattern pytest-xdist documents for session fixtures), instead of each
worker packaging everything again (about a minute of CI per worker).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMBOS = [("dev", "aws-cn"), ("prod", "aws"), ("dev", "aws"), ("prod", "aws-cn")]
PROBE_FUNCTIONS = {"probe_builder": {"lambda_memory_size": 384}, "probe_sender": {"reserved_concurrency": 3}}


@dataclass
class Packaged:
    stage: str
    partition: str
    template: dict
    raw: dict  # chalice's own sam.json, before post-processing
    seconds: float
    output: str


def make_probe_project(root: Path) -> Path:
    project = root / "project"
    shutil.copytree(REPO / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    # .chalice/deployments (Chalice's wheel cache, when the checkout has one) comes along: no second download
    shutil.copytree(REPO / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("venv"))
    shutil.copy(REPO / "requirements.txt", project / "requirements.txt")
    probe = Path(__file__).with_name("probe_consumer.py")
    shutil.copy(probe, project / "chalicelib" / "handlers" / "probe_consumer.py")
    app = (REPO / "app.py").read_text()
    app += (
        "\nfrom chalicelib.handlers.probe_consumer import bp as probe_consumer  # noqa: E402\n"
        "app.register_blueprint(probe_consumer)\n"
    )
    (project / "app.py").write_text(app)
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config.setdefault("lambda_functions", {}).update(PROBE_FUNCTIONS)
    config_path.write_text(json.dumps(config, indent=2))
    return project


def run_build(project: Path, stage: str, partition: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STAGE", "TABLE_PREFIX"))}
    env["PYTHONPATH"] = str(REPO)  # ``infra`` from the repo; ``app``/``chalicelib`` from the project (cwd first)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.build",
            "--project-dir",
            str(project),
            "--stage",
            stage,
            "--partition",
            partition,
            "--out",
            str(project / "build" / f"{stage}-{partition}"),
            *extra,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory) -> Path:
    """The run's folder shared by every xdist worker (the workers' own base folders are inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def probe_project(shared_root) -> Path:
    with _locked(shared_root / "infra.lock"):
        root = shared_root / "infra-probe"
        if not (root / "project" / "app.py").exists():
            make_probe_project(root)
        return root / "project"


@pytest.fixture(scope="session")
def packaged(probe_project) -> dict[tuple[str, str], Packaged]:
    results_file = probe_project / "build" / "packaged.json"
    with _locked(probe_project.parent / "packaged.lock"):
        if results_file.exists():  # another worker of this run built them
            return {(p["stage"], p["partition"]): Packaged(**p) for p in json.loads(results_file.read_text())}
        results = _package_all(probe_project)
        results_file.write_text(json.dumps([asdict(p) for p in results.values()]))
        return results


def _package_all(probe_project: Path) -> dict[tuple[str, str], Packaged]:
    def one(combo: tuple[str, str]) -> Packaged:
        stage, partition = combo
        started = time.monotonic()
        result = run_build(probe_project, stage, partition, "--lint")
        seconds = time.monotonic() - started
        assert result.returncode == 0, f"{stage}/{partition} failed:\n{result.stdout}\n{result.stderr}"
        out = probe_project / "build" / f"{stage}-{partition}"
        return Packaged(
            stage,
            partition,
            json.loads((out / "template.json").read_text()),
            json.loads((out / "sam.json").read_text()),
            seconds,
            result.stdout + result.stderr,
        )

    results = {COMBOS[0]: one(COMBOS[0])}  # fills Chalice's wheel cache for the others
    with ThreadPoolExecutor(max_workers=len(COMBOS) - 1) as pool:
        for combo, built in zip(COMBOS[1:], pool.map(one, COMBOS[1:]), strict=True):
            results[combo] = built
    return results


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (``fcntl.flock``; these tests run on Linux)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
