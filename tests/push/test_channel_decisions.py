"""push_policy's channel decisions as invariants over random accounts, fans and units (no emulator needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.models import Account, Fan
from chalicelib.services.push import policy

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
UNITS = ["p/", "p/a/", "p/a/x/", "p/b/", "p/b/y/", "q/"]

accounts = st.builds(
    lambda kind, template, notice, cross, unit: Account(
        "wxdecide00000001",
        unit_id="u",
        name="号",
        original_id="gh_decide0001",
        account_type=kind,
        template_id=template,
        subscribe_template_id=notice,
        cross_unit=cross,
    ),
    st.sampled_from(["service", "subscription"]),
    st.sampled_from([None, "tmpl"]),
    st.sampled_from([None, "ntc"]),
    st.sampled_from([None, "push", "unread", "none"]),
    st.sampled_from(UNITS),
)
fans = st.one_of(
    st.none(),
    st.builds(
        lambda following, stopped, spoke: Fan(
            "wxdecide00000001",
            "o-x",
            following=following,
            stopped_channels=set(stopped) or None,
            last_message_at=NOW - timedelta(hours=spoke) if spoke is not None else None,
            last_interaction_at=NOW - timedelta(hours=spoke) if spoke is not None else None,
        ),
        st.booleans(),
        st.lists(st.sampled_from(["template", "subscribe", "custom", "template:unfollowed"]), max_size=3),
        st.one_of(st.none(), st.integers(0, 72)),
    ),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(accounts, fans, st.sampled_from(UNITS), st.sampled_from(UNITS))
def test_reach_channel_and_skip_reason_agree(account, fan, account_unit, content_unit):
    reach = policy.reach(account, account_unit, content_unit)
    related = content_unit.startswith(account_unit)
    if related:  # own subtree's content: always as today, whatever the policy (a superior's is cross-unit)
        assert reach == policy.PUSH
    else:
        assert reach == (account.cross_unit or policy.DEFAULT_CROSS_UNIT)

    channel = policy.choose_channel(account, fan, NOW, reach)
    if not policy.has_channel(account, reach):  # publish refuses exactly where nobody can be reached
        assert channel == policy.NONE
    if fan is not None and fan.following is False:
        assert channel == policy.NONE and policy.skip_reason(account, fan, reach) == policy.SKIP_NOT_FOLLOWING
    if reach == policy.UNREAD and channel != policy.NONE:
        assert channel == policy.UNREAD  # listed, never pushed
    if reach == policy.NONE:
        assert channel == policy.NONE
    if channel == policy.NONE:
        assert policy.skip_reason(account, fan, reach) in policy.SKIP_REASONS
    if channel in (policy.TEMPLATE, policy.NOTICE):
        assert account.is_service and reach == policy.PUSH and not policy.is_stopped(fan, channel)
