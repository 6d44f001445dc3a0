"""The Lambda package holds exactly the files the hashed lock (``requirements.txt``) names.

``requirements.in`` lists the runtime pins a person edits; ``make lock``
compiles it into ``requirements.txt`` with every transitive dependency pinned
and the sha256 of every file of each release (docs/deploy.md, "Dependencies").

Chalice's packager runs pip twice: ``pip download -r requirements.txt`` (hash
checked, since every line carries hashes) and then, for each package whose
wheel does not fit Lambda, ``pip download <name>==<version> --platform
manylinux2014_x86_64`` -- without hashes.  So that no unchecked file reaches
the zip, the build first downloads the Lambda wheels of the whole lock with
``--require-hashes`` into a wheelhouse, and runs ``chalice package`` with pip
pointed at that wheelhouse alone (``wheelhouse_env``).  The wheelhouse is kept
per lock digest under ``.chalice/wheelhouse/``: later builds reuse it offline.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

LOCK_FILE = "requirements.txt"
# The functions' runtime: Python 3.11 on x86_64 (Chalice packages for the Python that runs it; pyproject pins 3.11).
LAMBDA_PLATFORM = [
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--abi",
    "cp311",
]
_COMPLETE = ".complete"


def lock_path(project_dir: Path) -> Path:
    return project_dir / LOCK_FILE


def wheelhouse_dir(project_dir: Path) -> Path:
    """Where the lock's wheels are kept: one folder per lock content, so an edited lock never reuses old files."""
    digest = hashlib.sha256(lock_path(project_dir).read_bytes()).hexdigest()[:16]
    return project_dir / ".chalice" / "wheelhouse" / digest


def download_command(lock: Path, dest: Path) -> list[str]:
    """pip, refusing any file whose sha256 the lock does not list, and any package the lock does not pin."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        *LAMBDA_PLATFORM,
        "--dest",
        str(dest),
        "-r",
        str(lock),
    ]


def fill_wheelhouse(project_dir: Path) -> Path:
    """The folder of the lock's Lambda wheels, every one checked against its hash (downloaded once per lock)."""
    target = wheelhouse_dir(project_dir)
    if (target / _COMPLETE).exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    subprocess.run(download_command(lock_path(project_dir), partial), check=True)  # noqa: S603 -- fixed argv
    (partial / _COMPLETE).touch()
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def wheelhouse_env(wheels: Path) -> dict[str, str]:
    """Environment that makes every pip call of ``chalice package`` see the checked wheels and nothing else."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_REQUIRE_VIRTUALENV": "0"}
