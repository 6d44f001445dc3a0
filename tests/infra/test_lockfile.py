"""The Lambda dependencies come from a hashed lock: complete, current with its pins, and what the package holds.

``requirements.in`` is what a person edits; ``requirements.txt`` is compiled
from it (``make lock``) with every transitive dependency and the hashes of its
files.  A pin edited without re-locking, a lock line without hashes, or a
package whose zip holds another version than the lock's would ship code nobody
reviewed.  The fast checks read the files; the packaging one opens the
deployment zip the packaging tests build.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import lockfile

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        found = PIN.match(line)
        if found:
            pins[_canonical(found.group(1))] = found.group(2)
    return pins


def _lock_entries(path: Path) -> dict[str, list[str]]:
    """Each locked requirement and the hashes on its (backslash-continued) lines."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        found = PIN.match(line)
        if found:
            current = _canonical(found.group(1))
            entries[current] = []
        elif line.lstrip().startswith("--hash=") and current:
            entries[current].append(line.split("--hash=", 1)[1].rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"unexpected line in the lock: {line!r}")
    return entries


def test_the_lock_pins_every_direct_dependency_at_its_pinned_version():
    direct = _pins(REPO / "requirements.in")
    locked = _pins(REPO / "requirements.txt")
    assert direct, "requirements.in pins nothing"
    stale = {name: (version, locked.get(name)) for name, version in direct.items() if locked.get(name) != version}
    assert not stale, f"requirements.txt is not the lock of requirements.in (run `make lock`): {stale}"


def test_every_locked_requirement_carries_sha256_hashes():
    entries = _lock_entries(REPO / "requirements.txt")
    assert len(entries) > len(_pins(REPO / "requirements.in"))  # the transitive dependencies are locked too
    for name, hashes in entries.items():
        assert hashes, f"{name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, hashes)


def test_the_local_install_reads_the_pins_not_the_lock():
    """pip turns on hash checking for a whole install once one line has a hash: the dev tools have none."""
    dev = (REPO / "requirements-dev.txt").read_text()
    assert re.search(r"^-r requirements\.in\b", dev, re.M)
    assert not re.search(r"^-r requirements\.txt\b", dev, re.M)


@pytest.mark.packaging  # reaches the package index
def test_the_wheelhouse_download_refuses_what_the_lock_does_not_hash(tmp_path):
    """A lock line whose hash is wrong fails the build's download before pip fetches anything else."""
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.17.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    command = lockfile.download_command(lock, tmp_path / "wheels")
    assert "--require-hashes" in command and "--only-binary=:all:" in command
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr, result.stderr[-2000:]
    assert not list((tmp_path / "wheels").glob("*.whl"))


@pytest.mark.packaging
def test_the_package_holds_exactly_the_locked_versions(packaged, probe_project):
    locked = _pins(REPO / "requirements.txt")
    with zipfile.ZipFile(probe_project / "build" / "dev-aws-cn" / "deployment.zip") as package:
        shipped = {}
        for name in package.namelist():
            found = re.match(r"^([^/]+)-([^-/]+)\.dist-info/METADATA$", name)
            if found:
                shipped[_canonical(found.group(1))] = found.group(2)
    assert shipped == locked, {
        n: (shipped.get(n), locked.get(n)) for n in set(shipped) | set(locked) if shipped.get(n) != locked.get(n)
    }
    assert sys.version_info[:2] == (3, 11)  # the lock is for the functions' Python (LAMBDA_PLATFORM)
