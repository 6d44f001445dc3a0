"""The ids' one definition: what each check accepts, and that the types and the checks agree."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chalicelib.contracts import id_types, ids

ALPHABET = st.sampled_from(list("wxghAZaz09_-. \n中"))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("wxdemoservice0001", True),
        ("wxa", True),
        ("A" * 32, True),
        ("A" * 33, False),
        ("", False),
        ("wx-1", False),
        ("ｗｘ", False),
        ("wxplain\n", False),
        (None, False),
        (12, False),
    ],
)
def test_appid(value, ok):
    assert ids.is_appid(value) is ok


def test_registering_an_appid_needs_wechats_shape():
    registered = TypeAdapter(id_types.RegisteredAppId)
    assert registered.validate_python("wxdemoservice0001") == "wxdemoservice0001"
    for bad in ("wxa", "gh_123456789", "wx" + "a" * 31):
        with pytest.raises(ValidationError):
            registered.validate_python(bad)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("o6_bmjrPTlm6_2sgVt7hMZOPfL2M", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("o.x", False),
        ("o\n", False),
    ],
)
def test_openid(value, ok):
    assert ids.is_openid(value) is ok


def test_typed_screen_codes_are_trimmed_and_upper_cased():
    assert ids.normalise_screen_code("  nj001 ") == "NJ001"
    assert ids.normalise_screen_code("-NJ") is None and ids.normalise_screen_code(None) is None
    assert TypeAdapter(id_types.ScreenCode).validate_python(" rb-1 ") == "RB-1"
    with pytest.raises(ValidationError):
        TypeAdapter(id_types.ScreenCode).validate_python("x")
    with pytest.raises(ValidationError):
        TypeAdapter(id_types.ScreenId).validate_python("nj001")  # machine-made messages carry the stored code


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(alphabet=ALPHABET, max_size=70))
def test_each_type_accepts_exactly_what_its_check_accepts(value):
    """pydantic's (Rust) patterns and the Python checks must agree, trailing newlines included."""
    for adapter, check in (
        (TypeAdapter(id_types.AppId), ids.is_appid),
        (TypeAdapter(id_types.OpenId), ids.is_openid),
        (TypeAdapter(id_types.ScreenId), ids.is_screen_code),
    ):
        try:
            adapter.validate_python(value)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted is check(value), (value, check.__name__)
    typed = re.fullmatch(ids.TYPED_SCREEN_CODE_PATTERN, value.strip()) is not None
    assert typed is (ids.normalise_screen_code(value) is not None)
