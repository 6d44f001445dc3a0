"""The request pipeline: controls, latency, injected faults, the API area, the calls log.

Why one place: every WeChat call goes through the same steps in the same order
(a fault is injected before anything is processed; a late or lost answer only
after), so each API area only states its own rules.
"""

from __future__ import annotations

import time

from devstack.wechat_standin import faults
from devstack.wechat_standin.areas import ROUTES
from devstack.wechat_standin.controls import CONTROL_PREFIX, serve_control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.log import record_call
from devstack.wechat_standin.wire import Request, Response, error_response, json_response, parse_body


def dispatch(core: Core, request: Request) -> Response:
    """Answer one HTTP request: controls, latency, injected faults, then the API."""
    if request.path.startswith(CONTROL_PREFIX):
        return serve_control(core, request)
    parse_body(request)
    time.sleep(faults.latency_for(core, request.path))
    with core.lock:
        response = faults.injected_failure(core.state, request) or call_api(core, request)
        if response.errcode == 0 and request.appid:
            core.count_success(request)
        record_call(core, request, response)
        late = faults.answer_delay(core.state, request.path)
        response.dropped = faults.take_dropped_answer(core.state, request.path)
    if late:
        time.sleep(late)
    return response


def call_api(core: Core, request: Request) -> Response:
    """Route to the API area; WeChat's own codes for an unknown path, a wrong method, a huge body."""
    route = ROUTES.get(request.path)
    try:
        if route is None:
            raise WeChatError(40066)
        if request.method != route.method:
            raise WeChatError(43001 if route.method == "GET" else 43002)
        if request.too_large:
            raise WeChatError(44002, "post data too large (limit 1 MiB)")
        result = route.handler(core, request)
    except WeChatError as exc:
        return error_response(exc.errcode, exc.errmsg)
    return result if isinstance(result, Response) else json_response(result)
