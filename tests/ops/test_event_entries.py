"""Queue, stream and schedule functions load their own consumer only (``chalicelib/entries/<function>.py``).

Each entry is imported in a fresh interpreter, as its Lambda function imports
it.  No timings (see bench/cold_start.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from app import app
from infra.event_entries import EntryError, entry_handler

REPO = Path(__file__).resolve().parents[2]
ENV = {
    "PATH": "/usr/bin:/bin",
    "STAGE": "dev",
    "AWS_DEFAULT_REGION": "cn-north-1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
# function -> services of its handler module's *other* functions, which it must not run at load
NOT_MINE = {
    "push_planner": [
        "chalicelib.services.push.invocation",
        "chalicelib.services.push.sender",
        "chalicelib.services.push.digest",
    ],
    "push_sender": [
        "chalicelib.services.push.planner",
        "chalicelib.services.push.digest",
        "chalicelib.services.push.outcomes",
    ],
    "push_digest": [
        "chalicelib.services.push.planner",
        "chalicelib.services.push.invocation",
        "chalicelib.services.push.sender",
    ],
    "rebuild_manifests": ["chalicelib.services.screens.reports"],
    "analytics_stats_stream": [
        "chalicelib.services.analytics.closing",
        "chalicelib.services.analytics.wechat_view",
        "chalicelib.services.analytics.attributes",
    ],
    "analytics_close_day": ["chalicelib.services.analytics.wechat_view"],
    "analytics_wechat_datacube": ["chalicelib.services.analytics.closing"],
}


def _event_functions() -> dict[str, str]:
    """Chalice function name -> its handler string (module.function), for every event source."""
    found = {}
    for source in app.event_sources:
        func = getattr(app.handler_map[source.name], "func", app.handler_map[source.name])
        found[source.name] = f"{func.__module__}.{func.__name__}"
    return found


def _executed_after(statement: str) -> tuple[set[str], dict]:
    """Modules really executed (not merely registered lazily) after ``statement``, and what it printed."""
    script = (
        f"import json, sys\n{statement}\n"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if type(m).__name__ != '_LazyModule')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    return set(json.loads(lines[-1])), (json.loads(lines[-2]) if len(lines) > 1 else {})


def test_every_function_sharing_a_handler_module_has_a_thin_entry():
    by_module = defaultdict(list)
    for name, handler in _event_functions().items():
        by_module[handler.rpartition(".")[0]].append(name)
    shared = [name for names in by_module.values() if len(names) > 1 for name in names]
    assert len(shared) >= 8
    for name in shared:
        assert entry_handler(REPO, name, _event_functions()[name]) == f"chalicelib.entries.{name}.handler", name


@pytest.mark.parametrize("function", sorted(NOT_MINE))
def test_an_entry_loads_its_consumer_and_not_its_neighbours(function):
    handler = _event_functions()[function]
    module, _, name = handler.rpartition(".")
    loaded, _ = _executed_after(
        f"import chalicelib.entries.{function} as entry; import {module} as handlers\n"
        f"assert entry.handler is handlers.{name}"
    )
    assert module in loaded
    assert not loaded & set(NOT_MINE[function]), sorted(loaded & set(NOT_MINE[function]))
    if function in ("push_sender", "push_digest", "rebuild_manifests"):  # nor every table's model
        assert "chalicelib.models.users" not in loaded


def test_a_deferred_neighbour_still_loads_whole_when_something_uses_it():
    loaded, printed = _executed_after(
        "from chalicelib.entries.push_sender import handler\n"
        "from chalicelib.services.push import planner as push_planner\n"
        "print(json.dumps({'plan': callable(push_planner.plan)}))"
    )
    assert printed == {"plan": True}
    assert {"chalicelib.services.push.planner", "chalicelib.services.push.outcomes"} <= loaded


def test_the_planner_entry_handles_a_message_without_loading_the_sender():
    loaded, printed = _executed_after(
        "from chalicelib.entries.push_planner import handler\n"
        "event = {'Records': [{'messageId': 'm-1', 'body': 'not json', 'receiptHandle': 'r', 'attributes': {},"
        " 'messageAttributes': {}, 'eventSourceARN': 'arn:aws-cn:sqs:cn-north-1:1:q'}]}\n"
        "print(json.dumps(handler(event, None)))"
    )
    assert printed == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}  # not a publish message: for the DLQ
    assert "chalicelib.services.push.sender" not in loaded


@pytest.mark.parametrize(
    "source, problem",
    [
        ("import os\nfrom chalicelib.handlers.push_queue import send_pushes as handler\n", "import os"),
        (
            "from chalicelib.services.push import sender as push_sender\n"
            "from chalicelib.handlers.push_queue import send_pushes as handler\n",
            "chalicelib.services",
        ),
        ("from chalicelib.handlers.push_queue import send_pushes, plan_pushes as handler\n", "neither"),
        ("from chalicelib.entries.lazy import defer_modules\n", "does not bind"),
    ],
)
def test_an_entry_that_imports_more_than_its_handler_fails_the_build(tmp_path, source, problem):
    """Its role is derived from the handler's code alone: an entry reaching further would get no rights for it."""
    entries = tmp_path / "chalicelib" / "entries"
    entries.mkdir(parents=True)
    (entries / "__init__.py").write_text("")
    (entries / "push_sender.py").write_text(source)
    with pytest.raises(EntryError, match=problem):
        entry_handler(tmp_path, "push_sender", "chalicelib.handlers.push_queue.send_pushes")
    assert entry_handler(tmp_path, "push_digest", "chalicelib.handlers.push_queue.daily_digest") is None
