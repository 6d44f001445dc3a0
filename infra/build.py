"""``python -m infra.build --stage prod --partition aws-cn``: the deployable template, checked.

Steps: write the merge template (``infra.template``), run ``chalice package``
with it, post-process (``infra.postprocess``), write ``template.json`` next to
Chalice's ``sam.json`` and ``deployment.zip``, and -- with ``--lint`` -- run
cfn-lint for the target region.  Needs no AWS credentials and no network
except the Python package index (the lock's Lambda wheels are downloaded once,
hash-checked, into ``.chalice/wheelhouse/``; Chalice builds from them and
caches the dependency zip in ``.chalice/deployments/``, keyed by requirements.txt).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from infra import lockfile
from infra.stage import PARTITION_REGIONS, PROJECT_DIR, Target

# cfn-lint exit status is a bit mask: 2 errors, 4 warnings, 8 informational.
CFN_LINT_ERROR = 2


def out_dir_for(target: Target) -> Path:
    return target.project_dir / "build" / "deploy" / f"{target.stage}-{target.partition}"


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the venv's chalice, cfn-lint)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def package_env(target: Target) -> dict[str, str]:
    """Environment for ``chalice package``: the stage's variables, a region, no credential look-ups.

    Chalice imports ``app.py`` to find the handlers, and decorators such as
    ``on_sqs_message(queue=get_settings().push_queue_name)`` read settings at
    import time: without the stage's variables a prod package would name the
    dev queues.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(target.environment, STAGE=target.stage)
    env.update(AWS_DEFAULT_REGION=target.region, AWS_REGION=target.region, AWS_EC2_METADATA_DISABLED="true")
    return env


def chalice_package(target: Target, merge_template: Path, out_dir: Path) -> None:
    """``chalice package`` with pip limited to the lock's hash-checked wheels (``infra.lockfile``)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    wheels = lockfile.fill_wheelhouse(target.project_dir)
    subprocess.run(  # noqa: S603 -- fixed argv, no shell
        [
            _tool("chalice"),
            "--project-dir",
            str(target.project_dir),
            "package",
            "--stage",
            target.stage,
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "json",
            "--merge-template",
            str(merge_template),
            str(out_dir),
        ],
        check=True,
        env={**package_env(target), **lockfile.wheelhouse_env(wheels)},
        cwd=target.project_dir,
    )


def load_app(project_dir: Path) -> Any:
    """The project's Chalice app object (import only; nothing is called)."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    module = importlib.import_module("app")
    if Path(module.__file__).resolve().parent != project_dir.resolve():
        raise RuntimeError(f"imported app from {module.__file__}, expected {project_dir}; run from the project dir")
    return module.app


def build(target: Target, out_dir: Path | None = None) -> Path:
    """Package and post-process; returns the path of the final ``template.json``."""
    from chalicelib.models import ALL_MODELS
    from infra import bytecode, public
    from infra.postprocess import app_functions, postprocess
    from infra.template import merge_template

    out_dir = out_dir or out_dir_for(target)
    merge_path = out_dir.with_name(out_dir.name + ".merge.json")
    merge_path.parent.mkdir(parents=True, exist_ok=True)
    merge_path.write_text(json.dumps(merge_template(target, ALL_MODELS), indent=2))
    chalice_package(target, merge_path, out_dir)
    template = json.loads((out_dir / "sam.json").read_text())
    runtimes = {
        r["Properties"].get("Runtime")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    if len(runtimes) == 1 and bytecode.runtime_matches(runtimes.pop()):
        print(f"bytecode: {bytecode.add_bytecode(out_dir / 'deployment.zip')} modules precompiled")
    else:
        print(f"bytecode: not added (build Python {sys.version_info[:2]} is not the functions' runtime)")
    app = load_app(target.project_dir)
    entries = public.load_entries(app, target.project_dir)
    postprocess(template, target, public.handlers(app, entries, app_functions(app)), ALL_MODELS, entries)
    final = out_dir / "template.json"
    final.write_text(json.dumps(template, indent=2, ensure_ascii=False))
    return final


def lint(template: Path, region: str) -> subprocess.CompletedProcess[str]:
    """cfn-lint for the region (its region schemas know, e.g., which resource types China lacks)."""
    return subprocess.run(  # noqa: S603 -- fixed argv, no shell
        [_tool("cfn-lint"), "--regions", region, "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--partition", choices=sorted(PARTITION_REGIONS), default="aws-cn")
    parser.add_argument("--region", default="", help="default: cn-north-1 for aws-cn, us-east-1 for aws")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument("--out", type=Path, default=None, help="default: build/deploy/<stage>-<partition>")
    parser.add_argument("--lint", action="store_true", help="run cfn-lint; fail on errors")
    args = parser.parse_args(argv)
    target = Target(args.stage, args.partition, args.region, args.project_dir.resolve())
    started = time.monotonic()
    path = build(target, args.out)
    print(f"template: {path} ({time.monotonic() - started:.1f}s)")
    if args.lint:
        result = lint(path, target.region)
        print(result.stdout, end="")
        if result.returncode & CFN_LINT_ERROR:
            print(f"cfn-lint found errors in {path}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
