"""Print the admin API's OpenAPI document, generated offline from the app's route registry.

``make console`` writes it to ``console/src/api/openapi.json``; the console's
build generates its TypeScript types from it (openapi-typescript), so an API
change that breaks the console fails ``npm run build``.  No server, emulator or
AWS access is needed: importing the app registers every route.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    import app  # noqa: F401 - registers every admin route
    from chalicelib.handlers.admin.openapi import document

    json.dump(document(), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
