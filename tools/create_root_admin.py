"""Create the first root unit, its admin user and his API key on a fresh system.

Locally, while ``make dev`` runs (another terminal), nothing to set: the command finds the
emulator and the stage in ``.local/dev-state.json``, which ``make dev`` writes::

    .venv/bin/python -m tools.create_root_admin --unit-name 江苏省科协 --user-name 运维管理员

Against AWS only with an explicit stage and the operator's credentials (never by accident)::

    AWS_PROFILE=ops AWS_REGION=cn-north-1 python -m tools.create_root_admin --stage prod --unit-name 江苏省科协

``AWS_ENDPOINT_URL``, if set, names the endpoint explicitly (tests, a moto of one's own).
The key is printed once; only its hash is stored.  Every later user and key is created
through the API with this key.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

STATE_FILE = Path(".local/dev-state.json")


class Refusal(Exception):
    """Why the command will not run; printed as one line, exit status 2."""


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2):
            return True
    except OSError:
        return False


def choose_target(stage: str | None) -> str:
    """Point this process at the system to write to; returns a description for the operator."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        if stage:
            os.environ["STAGE"] = stage
        endpoint, current = os.environ["AWS_ENDPOINT_URL"], os.environ.get("STAGE", "dev")
        return f"the endpoint {endpoint} (AWS_ENDPOINT_URL), stage {current}"
    if stage:
        import boto3

        if boto3.Session().get_credentials() is None:
            raise Refusal(
                f"no AWS credentials for stage {stage!r}: set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY (and AWS_REGION)"
            )
        os.environ["STAGE"] = stage
        return f"AWS, stage {stage}"
    if not STATE_FILE.exists():
        raise Refusal(
            "make dev does not seem to run here (no .local/dev-state.json): start `make dev` in this "
            "directory first, or pass --stage <stage> with AWS credentials to write to AWS"
        )
    state = json.loads(STATE_FILE.read_text())
    endpoint = state.get("aws_endpoint") or ""
    if not endpoint or not _reachable(endpoint):
        raise Refusal(f"the local emulator ({endpoint or 'unknown'}) does not answer: is `make dev` still running?")
    from devstack.moto_server import configure_env

    configure_env(endpoint)  # dummy credentials: a local run can never reach a real account
    os.environ["STAGE"] = state.get("stage") or "dev"
    return f"the local system of make dev ({endpoint}), stage {os.environ['STAGE']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit-name", required=True)
    parser.add_argument("--user-name", default="root admin")
    parser.add_argument("--kind", default="association", help="a unit kind (chalicelib.models.units.UNIT_KINDS)")
    parser.add_argument("--province")
    parser.add_argument("--stage", help="write to AWS for this stage (needs AWS credentials); omit under make dev")
    args = parser.parse_args(argv)
    try:
        target = choose_target(args.stage)
    except Refusal as exc:
        print(f"create_root_admin: {exc}", file=sys.stderr)
        return 2
    # only now: table names and endpoints are read from the environment at import
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    from chalicelib.models.units import UNIT_KINDS
    from chalicelib.services.access.users import bootstrap_root_admin

    if args.kind not in UNIT_KINDS:
        parser.error(f"--kind must be one of {', '.join(UNIT_KINDS)}")
    fields = {"province": args.province} if args.province else {}
    try:
        unit, user, key = bootstrap_root_admin(args.unit_name, args.user_name, args.kind, **fields)
    except Exception as exc:  # an operator's command: one clear line, not a traceback
        print(
            f"create_root_admin: could not write to {target}: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr
        )
        return 1
    print(f"written to {target}")
    print(f"root unit: {unit.unit_id} ({unit.name})")
    print(f"admin user: {user.user_id} ({user.name})")
    print(f"API key (shown once, keep it safe): {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
