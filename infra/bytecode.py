"""Ship compiled bytecode in the deployment package, so a cold start does not compile every module.

Chalice's ``deployment.zip`` holds sources only, and ``/var/task`` is
read-only: without ``.pyc`` files every cold start compiles the whole import
graph -- boto3 and botocore included, since they come from the package --
which is slower than importing it (see ``bench/cold_start.py``).  Each ``.py``
in the zip gets its ``__pycache__/<name>.cpython-3XX.pyc`` in *unchecked-hash*
mode (PEP 552): valid whatever the file times are after extraction, and the
same bytes for the same source, so an unchanged package keeps its hash.
Bytecode is only usable by the interpreter version that wrote it: the build's
Python must be the functions' runtime (``python3.11``), or nothing is added.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc  # the writer py_compile uses
from pathlib import Path

LAMBDA_ROOT = "/var/task"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def runtime_matches(runtime: str) -> bool:
    return runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"


def add_bytecode(package: Path) -> int:
    """Rewrite ``package`` with a ``.pyc`` next to every ``.py``; returns how many were added."""
    tag = sys.implementation.cache_tag
    scratch = package.with_suffix(".pyc.zip")
    added = 0
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as target:
        sources = {name for name in source.namelist() if name.endswith(".py")}

        def pyc_of(name: str) -> str:
            directory, _, filename = name.rpartition("/")
            return f"{directory + '/' if directory else ''}__pycache__/{filename[:-3]}.{tag}.pyc"

        # A .pyc the package already holds (Chalice copies whatever __pycache__ the project dir has) may be
        # stale or mtime-checked: every source gets a fresh one instead.
        replaced = {pyc_of(name) for name in sources}
        for info in source.infolist():
            if info.filename in replaced:
                continue
            data = source.read(info)
            target.writestr(info, data)
            if info.filename not in sources:
                continue
            pyc = pyc_of(info.filename)
            try:
                code = compile(data, f"{LAMBDA_ROOT}/{info.filename}", "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue  # a file no one can import (templates, other Python versions' code)
            pyc_info = zipfile.ZipInfo(pyc, FIXED_TIME)
            pyc_info.compress_type = zipfile.ZIP_DEFLATED
            pyc_info.external_attr = 0o644 << 16
            target.writestr(pyc_info, bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)))
            added += 1
    shutil.move(scratch, package)
    return added
