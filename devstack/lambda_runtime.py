"""What the Lambda runtime gives an invocation, emulated for the local pumps.

A handler run by :mod:`devstack.sqs_pump` or :mod:`devstack.stream_pump` must
see what it would see in Lambda: a context object whose remaining time counts
down (:class:`FakeLambdaContext`) and, when asked for, the runtime's hard kill
at the timeout.  Failure tests also need to stop an invocation at a chosen
request.  The kill and the injected failures both act on the invocation's I/O,
so they share one mechanism, kept here apart from how a pump receives a batch
and reads the handler's answer.

Lambda's hard kill at the timeout is emulated with the pump's
``kill_at_timeout=True``: at the context's deadline every AWS request and HTTP
call of that invocation (the handler's thread and every thread it started)
raises :class:`LambdaKilled` instead of happening, so nothing the invocation
does after its deadline reaches AWS or WeChat -- sends already on the wire are
delivered, their answers are lost, exactly as when Lambda kills a process.
:data:`faults` uses the same mechanism for failure injection: a rule can kill
the invocation at a chosen request (a SIGKILL mid-run, an exit just before a
commit) or make an AWS request fail (a transaction conflict, SSM throttling).
The hooks patch botocore and requests once, process-wide; a request made
outside an invocation is never affected.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MEMORY_MB = 128  # Chalice's default lambda_memory_size


class LambdaKilled(BaseException):
    """The emulated Lambda runtime stopped this invocation: the request it was about to make never happens.

    A ``BaseException`` so that the handler's own ``except Exception`` cannot
    swallow it (a killed process runs no more of its code).
    """


class _Invocation:
    """The threads of one handler call: its own and the ones it starts."""

    def __init__(self) -> None:
        self.invoker = threading.current_thread()
        self.before = set(threading.enumerate())
        self.members: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self.active = True
        self.killed = False
        self.kill_reason = ""

    def owns(self, thread: threading.Thread) -> bool:
        if thread is self.invoker:
            return self.active
        if thread in self.members:
            return True
        if self.active and thread not in self.before:
            self.members.add(thread)
            return True
        return False

    def kill(self, reason: str) -> None:
        if not self.killed:
            log.warning("sqs pump: invocation killed: %s", reason)
        self.killed, self.kill_reason = True, self.kill_reason or reason


Rule = Callable[[str, str, dict[str, Any]], Any]


class Faults:
    """Failure injection at the I/O boundary of emulated invocations (process-wide, installed once).

    ``on_aws(rule)``: ``rule(service, operation, params)`` runs before each
    AWS request made inside an invocation; it may return ``KILL`` (the
    invocation dies there, the request is not made), an exception to raise
    in place of the request, or ``None``.  ``on_http(rule)``: ``rule(method,
    url, {})`` runs *after* each HTTP request of an invocation was sent (a
    ``KILL`` then loses its answer, like a crash with the send in flight).
    """

    KILL = "kill"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._invocations: list[_Invocation] = []
        self.aws_rules: list[Rule] = []
        self.http_rules: list[Rule] = []
        self.killed = 0
        self._installed = False

    def clear(self) -> None:
        with self._lock:
            self.aws_rules.clear()
            self.http_rules.clear()
            self._invocations = [i for i in self._invocations if i.active]
            self.killed = 0

    def on_aws(self, rule: Rule) -> None:
        self.install()
        self.aws_rules.append(rule)

    def on_http(self, rule: Rule) -> None:
        self.install()
        self.http_rules.append(rule)

    def begin(self) -> _Invocation:
        self.install()
        invocation = _Invocation()
        with self._lock:
            self._invocations = [i for i in self._invocations if i.active or i.killed][-50:]
            self._invocations.append(invocation)
        return invocation

    def end(self, invocation: _Invocation) -> None:
        invocation.active = False
        if invocation.killed:
            self.killed += 1

    def _current(self) -> _Invocation | None:
        thread = threading.current_thread()
        with self._lock:
            for invocation in reversed(self._invocations):
                if invocation.owns(thread):
                    return invocation
        return None

    def _guard(self, kind: str, service: str, operation: str, params: dict[str, Any], after: bool = False) -> Any:
        invocation = self._current()
        if invocation is None:
            return None
        if invocation.killed:
            raise LambdaKilled(invocation.kill_reason)
        for rule in list(self.aws_rules if kind == "aws" else self.http_rules):
            verdict = rule(service, operation, params)
            if verdict == self.KILL:
                invocation.kill(f"{kind} {service} {operation}")
                raise LambdaKilled(invocation.kill_reason)
            if isinstance(verdict, BaseException) and not after:
                raise verdict
        return None

    def install(self) -> None:
        if self._installed:
            return
        import botocore.client
        import requests

        faults = self
        original_api_call = botocore.client.BaseClient._make_api_call
        original_send = requests.Session.send

        def api_call(client, operation_name, api_params):
            faults._guard("aws", client.meta.service_model.service_name, operation_name, api_params)
            return original_api_call(client, operation_name, api_params)

        def send(session, request, **kwargs):
            invocation = faults._current()
            if invocation is not None and invocation.killed:
                raise LambdaKilled(invocation.kill_reason)
            response = original_send(session, request, **kwargs)
            faults._guard("http", request.method or "", request.url or "", {}, after=True)
            return response

        botocore.client.BaseClient._make_api_call = api_call
        requests.Session.send = send
        self._installed = True


faults = Faults()


class FakeLambdaContext:
    """The attributes of Lambda's Python context object that handlers and powertools read."""

    def __init__(
        self,
        function_name: str,
        timeout_seconds: int,
        region: str,
        *,
        memory_limit_in_mb: int = DEFAULT_MEMORY_MB,
        partition: str = "aws",
        account_id: str = "123456789012",
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:{partition}:lambda:{region}:{account_id}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
