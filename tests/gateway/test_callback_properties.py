"""Generative: whatever arrives at the callback, never a 5xx, and never a write unless it is signed and well-formed.

Hypothesis mutates real deliveries (plain and safe mode) -- dropping, replacing
or adding query parameters with arbitrary text or bytes, replacing or corrupting
the body -- and also signs arbitrary bodies with the right token (a token holder
sending nonsense).  After each request every table is compared with its state
before (every successful DynamoDB write call is recorded; a sample of examples also
compares every item of every table): an unsigned or refused request writes nothing.
Bounded for CI: 160 examples in all, derandomised so every run tries the same ones.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.wechat.signature import signature_of
from tests.gateway.tables import every_item, recording_writes
from tests.support import PLAIN_APPID, SAFE_APPID

TOKENS = {PLAIN_APPID: "plaintoken", SAFE_APPID: "safetoken"}
PARAMS = ["signature", "timestamp", "nonce", "msg_signature", "encrypt_type", "openid", "echostr"]
COUNTS = {"unsigned": 0, "signed": 0, "5xx": 0, "writes_when_refused": 0}

_value = st.one_of(
    st.text(max_size=60).map(lambda t: quote(t.encode("utf-8"), safe="")),
    st.text(st.characters(min_codepoint=128, blacklist_categories=("Cs",)), min_size=1, max_size=40).map(
        lambda t: quote(t.encode("utf-8"), safe="")
    ),  # beyond ASCII: what comparisons and int() trip on
    st.binary(max_size=60).map(lambda b: quote(b, safe="")),  # not even UTF-8
    st.sampled_from(["", "²", "١٢٣", "aes", "AES", "raw", "0" * 40, "f" * 41, "%00", "1" * 200]),
)
_change = st.one_of(st.just(("drop",)), _value.map(lambda v: ("set", v)))
# Mostly one or two changes to the checked parameters, so the rest of the request stays valid enough
# to reach the code behind each check.
_CHECKED = ["signature", "timestamp", "nonce", "msg_signature", "encrypt_type"]
_mutations = st.dictionaries(
    st.sampled_from([*_CHECKED * 3, *PARAMS, "extra", "signature[]"]), _change, min_size=1, max_size=3
)


def _corrupt(body: bytes, data) -> bytes:
    choice = data.draw(st.sampled_from(["keep", "replace", "insert", "truncate"]))
    if choice == "replace":
        return data.draw(st.binary(max_size=400))
    if choice == "insert":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + data.draw(st.binary(min_size=1, max_size=40)) + body[at:]
    if choice == "truncate":
        return body[: data.draw(st.integers(0, max(0, len(body) - 1)))]
    return body


def _is_signed(appid: str, query: dict[str, str]) -> bool:
    try:
        timestamp, nonce, signature = query["timestamp"], query["nonce"], query["signature"]
        return abs(time.time() - int(timestamp)) <= 300 and signature_of(TOKENS[appid], timestamp, nonce) == signature
    except (KeyError, ValueError):
        return False


def _send(gateway, appid: str, query_string: str, body: bytes, method: str, content_type: str = "text/xml"):
    url = f"/wechat/{appid}?{query_string}"
    headers = {"Content-Type": content_type} if content_type else {}
    if method == "GET":
        return gateway.client.http.get(url, headers=headers)
    return gateway.client.http.post(url, headers=headers, body=body)


def _check(
    gateway,
    appid,
    query_string,
    body,
    method,
    signed_and_sane: bool,
    full_compare: bool,
    content_type: str = "text/xml",
):
    before = every_item() if full_compare else None
    with recording_writes() as writes:
        response = _send(gateway, appid, query_string, body, method, content_type)
    changed = bool(writes) or (full_compare and every_item() != before)
    allowed = signed_and_sane and response.status_code == 200
    if response.status_code >= 500:
        COUNTS["5xx"] += 1
    if changed and not allowed:
        COUNTS["writes_when_refused"] += 1
    assert response.status_code < 500, (method, query_string, body[:200], response.body[:200])
    assert allowed or not changed, (response.status_code, writes, query_string, body[:200])
    return response


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_query_and_body_is_never_a_5xx_nor_an_unsigned_write(gateway, demo, data):
    COUNTS["unsigned"] += 1
    sender, appid = data.draw(st.sampled_from([(demo.plain, PLAIN_APPID), (demo.safe, SAFE_APPID)]))
    request = data.draw(
        st.sampled_from(
            [
                lambda: sender.follow("o-fuzz", scene="NJ001"),
                lambda: sender.text("o-fuzz", "订阅 NJ002"),
                lambda: sender.click("o-fuzz", "LATEST"),
                lambda: sender.unfollow("o-fuzz"),
            ]
        )
    )()
    method = data.draw(st.sampled_from(["POST", "POST", "POST", "GET"]))
    parts = {k: quote(v, safe="") for k, v in request.query.items()}
    for name, change in data.draw(_mutations).items():
        if change[0] == "drop":
            parts.pop(name, None)
        else:
            parts[name] = change[1]
    query_string = "&".join(f"{k}={v}" for k, v in parts.items())
    body = _corrupt(request.body, data)
    from urllib.parse import parse_qs

    decoded = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
    signed = _is_signed(appid, decoded)
    content_type = data.draw(
        st.sampled_from(
            ["text/xml", "text/xml", "application/xml; charset=utf-8", "text/plain", "application/json", ""]
        )
    )
    _check(
        gateway,
        appid,
        query_string,
        body,
        method,
        signed_and_sane=signed,
        full_compare=COUNTS["unsigned"] % 10 == 1,
        content_type=content_type,
    )


_xml_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_signed_nonsense_from_a_token_holder_is_never_a_5xx(gateway, demo, data):
    """Correctly signed (and, in safe mode, encrypted) messages with arbitrary fields."""
    COUNTS["signed"] += 1
    sender = data.draw(st.sampled_from([demo.plain, demo.safe]))
    names = [
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Event",
        "EventKey",
        "MsgId",
        "MsgID",
        "Content",
        "Status",
        "Ticket",
    ]
    fields = data.draw(st.dictionaries(st.sampled_from(names), _xml_text, max_size=8))
    fields.setdefault("ToUserName", data.draw(st.sampled_from([sender.original_id, "gh_other"])))
    fields.setdefault("MsgType", data.draw(st.sampled_from(["text", "event", "image", ""])))
    from xml.sax.saxutils import escape

    xml = "<xml>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items()) + "</xml>"
    if data.draw(st.booleans()):
        xml = xml.replace(
            "</xml>",
            data.draw(
                st.sampled_from(
                    ["<a><b><c><d><e><f><g>1</g></f></e></d></c></b></a>", "<![CDATA[x]]>", "&amp;", "<x/>" * 70]
                )
            )
            + "</xml>",
        )
    request = sender.sign(xml)
    _check(
        gateway,
        sender.appid,
        request.query_string,
        request.body,
        "POST",
        signed_and_sane=True,
        full_compare=COUNTS["signed"] % 10 == 1,
    )


def test_report_counts():
    """Runs last in this file: prints how many cases were tried (shown with ``-s``)."""
    print(f"\ncallback properties: {COUNTS}")
