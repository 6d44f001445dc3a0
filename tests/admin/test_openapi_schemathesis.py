"""schemathesis against the served OpenAPI document, over real HTTP, as the root admin.

Every operation of ``/api/v1/openapi.json`` gets a few schema-valid requests
(Hypothesis, derandomized so CI runs are repeatable) sent to the app on
Chalice's own local server.  Checks on every response:

- ``not_a_server_error``: never a 5xx;
- ``response_schema_conformance``: the body matches the documented response;
- acceptance: a request the document calls valid is not refused with 400/422.
  The document is generated from the pydantic models that validate requests,
  so a rule the code enforces and the document does not carry shows up here.

``EXAMPLES_PER_OPERATION`` bounds the run for CI (about a minute on 2 cores).
The counts are printed (``-s``) for the record.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app import app

EXAMPLES_PER_OPERATION = int(os.environ.get("KEPU_SCHEMATHESIS_EXAMPLES", "3"))  # raise it for a deeper local run
REFUSED = (400, 422)
# Refusals no JSON schema can foresee, each for a reason (everything else must be in the document):
UNDESCRIBABLE = (
    ("cursor", "invalid cursor"),  # an opaque value signed by the server
    ("appid", "no such official account"),  # names another object: like a 404, for a body field
    ("targets.", "no unit"),
    ("targets.", "no screen"),  # the same, for content targets
    ("parent_id", "cannot move below itself"),  # depends on where the unit is in the tree
    ("weekly_windows.", "start must be before end"),  # compares two fields' values
    ("weekly_windows.", "start and end must differ"),  # the same (an overnight window has end < start)
    ("username", "needed the first time"),  # whether the user has a sign-in name yet is stored state
    ("", "made with an API key, not a session"),  # the console's session: depends on how the caller signed in
    ("from", "must not be after to"),
    ("from", "days"),  # compares two query parameters
    ("media", "needs a video/mp4 file"),
    ("media", "needs at least one image"),  # the files' types
    ("media.", "no upload of this file"),  # a file must have been uploaded first
    ("body", "markup is not allowed"),  # PATCH: whether body is plain text depends on the stored kind
)


def undescribable(error: dict) -> bool:
    field, message = error.get("field") or "", error.get("message") or ""
    return any(field.startswith(f) and m in message for f, m in UNDESCRIBABLE)


@pytest.fixture(scope="module")
def live(matrix_world):
    from devstack.local_api import base_url, start_api

    world, _api = matrix_world
    server = start_api(app, "127.0.0.1", 0)
    yield base_url(server), world
    server.shutdown()
    server.server.server_close()


def test_every_operation_holds_to_the_document(live):
    base, world = live
    schema = schemathesis.openapi.from_dict(requests.get(f"{base}/api/v1/openapi.json", timeout=10).json())
    headers = {"Authorization": f"Bearer {world.root_key}"}
    counts: Counter = Counter()
    failures: list[str] = []
    session = requests.Session()

    from tests.admin.test_authorization_matrix import _content

    known = {
        "unit_id": world.unit["district"],
        "screen_id": world.screen["district"],
        "appid": world.appid["district"],
        "user_id": world.user["viewer"],
        "content_id": _content(world, "district"),
        "object_type": "unit",
        "object_id": world.unit["city"],
    }

    def real_ids(case):
        """Half the cases name real objects (path and body), so calls get past the 404 and reach the rules."""
        if isinstance(case.body, dict):
            for name in ("unit_id", "parent_id"):
                if isinstance(case.body.get(name), str):
                    case.body[name] = world.unit["district"]
        return case

    def check(operation):
        names = re.findall(r"{(\w+)}", operation.path)
        fixed = {n: known[n] for n in names if n in known}
        strategy = operation.as_strategy() | operation.as_strategy(path_parameters=fixed).map(real_ids)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            counts["cases"] += 1
            response = case.call(base_url=base, session=session, headers=headers)
            counts[response.status_code] += 1
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            except Exception as exc:  # every failure of every operation, not only the first
                failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:300]}")
            error = response.json().get("error", {}) if response.status_code in REFUSED else {}
            if response.status_code in REFUSED and not undescribable(error):
                failures.append(
                    f"{operation.label}: schema-valid request refused {response.status_code} "
                    f"{error.get('field')}: {error.get('message')} (body {str(case.body)[:120]})"
                )

        run()

    for result in schema.get_all_operations():
        check(result.ok())
        counts["operations"] += 1

    print(
        f"\nschemathesis: {counts['operations']} operations, {counts['cases']} cases, "
        f"by status {dict(sorted((k, v) for k, v in counts.items() if isinstance(k, int)))}, "
        f"{len(failures)} failures"
    )
    assert not failures, "\n".join(failures[:60])
