"""The PATCH bodies derived from the create bodies, and the generic page, checked without the emulator.

test_security_review.py sends the same nulls over HTTP; this covers every field of every pair in
milliseconds, so a field added to a create is checked in its update at once.
"""

from __future__ import annotations

import functools

import pytest
from pydantic import ValidationError

from chalicelib.handlers.admin import schemas as s

PAIRS = [  # create, update, the fields a PATCH cannot send, those it may clear although a create needs them
    (s.UnitCreate, s.UnitUpdate, set(), set()),
    (s.AccountCreate, s.AccountUpdate, {"appid"}, set()),
    (s.ScreenCreate, s.ScreenUpdate, {"screen_id"}, {"tags"}),
    (s.ContentCreate, s.ContentUpdate, {"unit_id", "kind"}, set()),
    (s.UserCreate, s.UserUpdate, {"unit_id"}, set()),
]


@functools.cache
def _properties(model) -> dict:
    """The model's JSON-schema properties, built once (ContentUpdate's takes ~0.1 s; it was built twice a field)."""
    return model.model_json_schema()["properties"]


def _nullable(model, name: str) -> bool:
    prop = _properties(model)[name]
    return any(option.get("type") == "null" for option in prop.get("anyOf", ()))


@pytest.mark.parametrize(("create", "update", "omitted", "clearable"), PAIRS, ids=lambda p: getattr(p, "__name__", ""))
def test_an_update_has_every_create_field_optional_and_null_only_where_the_create_allows_it(
    create, update, omitted, clearable
):
    assert set(create.model_fields) - omitted <= set(update.model_fields)
    assert not omitted & set(update.model_fields)
    update.model_validate({})  # every field optional
    for name in set(create.model_fields) - omitted:
        may_be_null = _nullable(create, name) or name in clearable
        assert _nullable(update, name) == may_be_null, name
        assert "default" not in _properties(update)[name] or may_be_null, name
        if may_be_null:
            update.model_validate({name: None})
        else:
            with pytest.raises(ValidationError) as refused:
                update.model_validate({name: None})
            assert refused.value.errors()[0]["loc"] == (name,)


def test_an_update_checks_its_fields_as_the_create_does():
    with pytest.raises(ValidationError):
        s.ScreenUpdate.model_validate({"name": "<b>x</b>"})
    with pytest.raises(ValidationError):
        s.ContentUpdate.model_validate({"valid_from": "2026-01-01T00:00:00"})  # no time zone
    with pytest.raises(ValidationError):
        s.UnitUpdate.model_validate({"nickname": "x"})  # unknown field


def test_a_page_is_named_after_its_items_and_needs_both_fields():
    assert [m.__name__ for m in (s.UnitList, s.AccountList, s.ScreenList, s.ContentList, s.UserList, s.AuditList)] == [
        "UnitList",
        "AccountList",
        "ScreenList",
        "ContentList",
        "UserList",
        "AuditList",
    ]
    assert s.UnitList.model_json_schema()["required"] == ["items", "next_cursor"]
    page = s.AuditList.model_validate({"items": [], "next_cursor": None})
    assert page.model_dump() == {"items": [], "next_cursor": None}
