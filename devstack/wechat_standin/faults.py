"""Fault injection and limits: slow answers, lost answers, injected error codes, quotas, the clock.

Why it exists: the product's retry, dead-letter and possible-duplicate paths
only run when WeChat misbehaves, so tests and benches make it misbehave on
purpose.  The controls set the faults; the request pipeline asks the
functions at the bottom what to do with each call.
"""

from __future__ import annotations

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core, norm_path
from devstack.wechat_standin.state import FailureRule, State
from devstack.wechat_standin.wire import Request, Response, error_response

# ---- controls -----------------------------------------------------------------


@control
def set_latency(core: Core, seconds: float, path: str | None = None) -> None:
    """Delay answers (one path, or all with ``path=None``) to exercise timeouts."""
    core.state.latency[norm_path(path)] = float(seconds)


@control
def set_answer_delay(core: Core, seconds: float, path: str | None = None) -> None:
    """Process calls at once (a message is sent) but answer ``seconds`` later: WeChat's *late answer*.

    ``set_latency`` delays the processing too, so a client that gave up
    could look at the inbox before the message lands; here the message is
    in the inbox before the caller's timeout fires, as when WeChat sent it
    and only its answer was slow.
    """
    core.state.answer_delay[norm_path(path)] = float(seconds)


@control
def drop_answers(core: Core, count: int, path: str | None = None) -> None:
    """Process the next ``count`` calls (a message is sent), then close the connection unanswered.

    What an overloaded gateway or a network reset looks like to the caller:
    a connection error *after* the request went out, so WeChat may have sent.
    """
    core.state.dropped_answers[norm_path(path)] = int(count)


@control
def inject_failure(
    core: Core,
    errcode: int,
    path: str | None = None,
    count: int | None = None,
    probability: float | None = None,
    openid: str | None = None,
    http_status: int = 200,
) -> None:
    """Make matching calls fail before any real processing (nothing is delivered).

    ``count`` limits how many calls fail; ``probability`` rolls a seeded RNG;
    ``http_status`` 500/503 turns it into a 5xx with a JSON body.
    """
    rule = FailureRule(int(errcode), norm_path(path), count, probability, openid, int(http_status))
    core.state.failures.append(rule)


@control
def clear_failures(core: Core) -> None:
    """Remove every injected failure."""
    core.state.failures.clear()


@control
def set_quota(core: Core, appid: str, path: str, limit: int) -> None:
    """After ``limit`` successful calls to ``path`` today the account gets 45009."""
    core.state.quotas[(appid, norm_path(path) or path)] = int(limit)


@control
def advance_clock(core: Core, seconds: float) -> None:
    """Move the stand-in's clock forward (token expiry, windows, codes, quotas)."""
    core.state.clock_offset += float(seconds)


# ---- what the request pipeline asks -------------------------------------------


def latency_for(core: Core, path: str) -> float:
    """How long to wait before processing a call to ``path`` (taken outside the request lock)."""
    with core.lock:
        latency = core.state.latency
        return latency.get(path, latency.get(None, 0.0))


def answer_delay(state: State, path: str) -> float:
    """How long to hold the answer of a call already processed."""
    delays = state.answer_delay
    return delays.get(path, delays.get(None, 0.0))


def take_dropped_answer(state: State, path: str) -> bool:
    """Whether this call's answer is lost (using up one of the drops asked for)."""
    drops = state.dropped_answers
    for key in (path, None):
        if drops.get(key, 0) > 0:
            drops[key] -= 1
            return True
    return False


def _matches(state: State, rule: FailureRule, request: Request, openid: str | None) -> bool:
    if rule.path is not None and rule.path != request.path:
        return False
    if rule.openid is not None and rule.openid != openid:
        return False
    return rule.probability is None or state.rng.random() < rule.probability


def injected_failure(state: State, request: Request) -> Response | None:
    """The answer of the first injected failure matching this call, or None to process it."""
    openid = request.query.get("openid")
    if isinstance(request.body, dict):
        openid = request.body.get("touser", openid)
    for rule in list(state.failures):
        if not _matches(state, rule, request, openid):
            continue
        if rule.count is not None:
            rule.count -= 1
            if rule.count <= 0:
                state.failures.remove(rule)
        return error_response(rule.errcode, status=rule.http_status)
    return None
