"""The rebuild-manifests message: what producers send is what the consumer reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.contracts.rebuild import CHUNK, RebuildMessage, for_screens

codes = st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{2,15}\Z")


def test_body_leaves_out_a_missing_content_id():
    [message] = for_screens(["NJ002", "NJ001", "NJ001"], "screen_updated")
    assert message.body() == {"type": "rebuild", "screen_ids": ["NJ001", "NJ002"], "reason": "screen_updated"}
    [with_content] = for_screens(["NJ001"], "content_published", "c_1")
    assert with_content.body()["content_id"] == "c_1"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    st.sets(codes, max_size=CHUNK + 5),
    st.sampled_from(["content_updated", "fans_changed"]),
    st.none() | st.just("c_abc"),
)
def test_every_produced_message_parses_back_and_names_each_screen_once(screens, reason, content_id):
    messages = for_screens(screens, reason, content_id)
    parsed = [RebuildMessage.model_validate(json.loads(json.dumps(m.body()))) for m in messages]
    assert parsed == messages and all(len(m.screen_ids) <= CHUNK for m in parsed)
    assert [s for m in parsed for s in m.screen_ids] == sorted(screens)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "rebuild", "screen_ids": ["bad id!"], "reason": "x"},
        {"type": "publish", "screen_ids": ["NJ001"], "reason": "x"},
        {"screen_ids": ["NJ001"], "reason": "x"},
        {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "x" * 41},
        {"type": "rebuild", "screen_ids": ["NJ001"] * 1001, "reason": "x"},
    ],
)
def test_the_consumer_refuses_what_no_producer_makes(body):
    with pytest.raises(ValidationError):
        RebuildMessage.model_validate(body)


def test_unknown_fields_such_as_the_correlation_stamp_are_ignored():
    message = RebuildMessage.model_validate(
        {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "x", "correlation_id": "abc", "enqueued_at": 1}
    )
    assert message.body() == {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "x"}
