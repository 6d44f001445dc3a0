"""The phone pages' identity rules as decisions, without a browser or the emulator.

The same rules are exercised end to end in test_identity.py; here they are
checked over every combination of session and signed link.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.page_tokens import PAGES, LinkClaims
from chalicelib.services.subscriptions import phone_identity as identity
from chalicelib.services.subscriptions.phone_identity import Session
from chalicelib.services.subscriptions.phone_visitor import (
    PushLinkReader,
    push_link_reader,
    push_link_valid,
    reader,
    takes_page_link,
    wants_proof,
)

APPID = "wxvisitor0001"
OPENIDS = st.sampled_from(["o-alice", "o-bob"])
SESSIONS = st.none() | st.builds(
    Session, st.just(APPID), OPENIDS, st.sampled_from([identity.OAUTH, identity.LINK]), st.just("csrf")
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(session=SESSIONS, openid=OPENIDS)
def test_a_push_link_never_replaces_a_proven_fan_and_otherwise_names_the_reader(session, openid):
    who = push_link_reader(session, LinkClaims(APPID, openid, "c1"))
    reads_as = session.openid if who is not PushLinkReader.ADOPT else openid
    if session is not None and session.kind == identity.OAUTH:
        assert who is not PushLinkReader.ADOPT and reads_as == session.openid
    else:
        assert reads_as == openid
    assert (who is PushLinkReader.FORWARDED) == (session is not None and reads_as != openid)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    session=SESSIONS,
    openid=OPENIDS,
    appid=st.sampled_from([APPID, "wxother00001"]),
    target=st.sampled_from([PAGES, "c1"]),
)
def test_a_page_link_becomes_the_session_only_when_valid_and_nobody_proven_is_there(session, openid, appid, target):
    takes = takes_page_link(APPID, session, LinkClaims(appid, openid, target))
    valid = appid == APPID and target == PAGES
    proven = session is not None and session.kind == identity.OAUTH
    already = session is not None and session.openid == openid
    assert takes == (valid and not proven and not already)


def test_bad_links_count_for_nothing():
    assert not takes_page_link(APPID, None, None)
    assert not push_link_valid(APPID, "c1", None)
    assert not push_link_valid(APPID, "c1", LinkClaims(APPID, "o-alice", "c2"))
    assert not push_link_valid(APPID, "c1", LinkClaims("wxother00001", "o-alice", "c1"))
    assert push_link_valid(APPID, "c1", LinkClaims(APPID, "o-alice", "c1"))


def test_pages_about_the_fan_want_proof_only_where_wechat_can_give_it():
    proven, linked = Session(APPID, "o-alice", identity.OAUTH, "x"), Session(APPID, "o-alice", identity.LINK, "x")
    assert wants_proof(True, None) and wants_proof(True, linked)
    assert not wants_proof(True, proven)
    assert not wants_proof(False, None) and not wants_proof(False, linked)


def test_a_read_counts_under_the_fan_or_a_lasting_visitor_id():
    assert reader(APPID, Session(APPID, "o-alice", identity.LINK, "x"), {}) == ("o-alice", None)
    known = "0123456789abcdef0123456789abcdef"
    assert reader(APPID, None, {identity.VISITOR_COOKIE: known}) == (f"v:{known}", None)
    minted, cookie = reader(APPID, None, {identity.VISITOR_COOKIE: "not-an-id"})
    assert minted.startswith("v:") and minted != f"v:{known}"
    assert cookie is not None and cookie.startswith(f"{identity.VISITOR_COOKIE}={minted[2:]}")
