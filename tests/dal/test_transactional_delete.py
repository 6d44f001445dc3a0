"""Deletes go inside the unit of work: the object, its audit entry and derived items change together."""

from __future__ import annotations

import pytest

from chalicelib.models import AuditEntry, HomeEntry, Screen
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork
from chalicelib.services.access import audit
from tests.admin.conftest import api, world  # noqa: F401 -- fixtures
from tests.admin.test_content_workflow import V


def test_a_delete_commits_with_the_other_writes_or_not_at_all(aws):
    HomeEntry("scope", "a", ident="a").save()
    HomeEntry("scope", "b", ident="b").save()
    uow = UnitOfWork()
    uow.delete(HomeEntry("scope", "a"), condition=HomeEntry.ident == "a", tag="a")
    uow.delete(HomeEntry("scope", "b"), condition=HomeEntry.ident == "not b", tag="b")
    uow.put(HomeEntry("scope", "c", ident="c"))
    with pytest.raises(TransactionConflict) as conflict:
        uow.commit()
    assert set(conflict.value.codes) == {"b"}
    assert {e.key for e in HomeEntry.query("scope")} == {"a", "b"}  # nothing deleted, nothing put

    uow = UnitOfWork()
    uow.delete(HomeEntry("scope", "a"), condition=HomeEntry.ident == "a", tag="a")
    uow.put(HomeEntry("scope", "c", ident="c"))
    uow.commit()
    assert {e.key for e in HomeEntry.query("scope")} == {"b", "c"}


def test_a_crash_while_logging_a_delete_leaves_the_object_in_place(api, world, monkeypatch):  # noqa: F811
    """Before, the object was deleted first and the audit entry written after: a crash lost the log line."""
    screen_id = world.screen["city"]

    def crash(*_args, **_kwargs):
        raise RuntimeError("the function died here")

    monkeypatch.setattr(audit, "record", crash)
    assert api.delete(f"{V}/screens/{screen_id}").status_code == 500
    assert Screen.get(screen_id).screen_id == screen_id
    monkeypatch.undo()
    entries_before = AuditEntry.count()
    assert api.delete(f"{V}/screens/{screen_id}").status_code == 204
    assert AuditEntry.count() == entries_before + 1
    assert Screen.count(screen_id) == 0
