"""Create the first root unit, its admin user and his API key on a fresh system.

Run with the stage's environment: locally after ``make dev`` started the
emulator (``AWS_ENDPOINT_URL`` set), or against AWS with credentials::

    STAGE=prod python -m tools.create_root_admin --unit-name 江苏省科协 --user-name 运维管理员

The key is printed once; only its hash is stored.  Every later user and key
is created through the API with this key.
"""

from __future__ import annotations

import argparse
import sys

from chalicelib.models.units import UNIT_KINDS
from chalicelib.services.users import bootstrap_root_admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit-name", required=True)
    parser.add_argument("--user-name", default="root admin")
    parser.add_argument("--kind", choices=UNIT_KINDS, default="association")
    parser.add_argument("--province")
    args = parser.parse_args(argv)
    fields = {"province": args.province} if args.province else {}
    unit, user, key = bootstrap_root_admin(args.unit_name, args.user_name, args.kind, **fields)
    print(f"root unit: {unit.unit_id} ({unit.name})")
    print(f"admin user: {user.user_id} ({user.name})")
    print(f"API key (shown once, keep it safe): {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
