"""The control operations, declared once; both ways of calling them are derived from here.

Why a table: tests, benches and the local runner steer the stand-in (accounts,
follows, injected faults, the clock …) either in-process, as methods of
:class:`~devstack.wechat_standin.WeChatStandIn`, or from another process over
``/_standin/<name>`` with :class:`~devstack.wechat_standin.StandInClient`.
Each operation is one function ``(core, **arguments)`` marked with
:func:`control`; the server's HTTP endpoint, the stand-in's methods and the
client's methods are all made from :data:`CONTROLS`, so adding an operation is
one decorated function and the three can no longer drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from devstack.wechat_standin.wire import Request, Response, json_response, parse_body

if TYPE_CHECKING:
    from devstack.wechat_standin.core import Core

CONTROL_PREFIX = "/_standin/"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Control:
    """One control operation: its name, the function doing it, and whether GET may call it."""

    name: str
    handler: Callable[..., Any]
    read: bool  # a read may be called with GET and its (string) arguments in the query

    @property
    def signature(self) -> inspect.Signature:
        """The operation's arguments as callers see them (without the core)."""
        parameters = list(inspect.signature(self.handler).parameters.values())
        return inspect.Signature(parameters[1:])

    def call(self, core: Core, *args: Any, **kwargs: Any) -> Any:
        """Run the operation under the core's lock, as every request is."""
        with core.lock:
            return self.handler(core, *args, **kwargs)


CONTROLS: dict[str, Control] = {}


def control(handler: F | None = None, *, read: bool = False) -> Any:
    """Register ``handler`` as the control operation of its name (``@control`` or ``@control(read=True)``)."""

    def register(fn: F) -> F:
        if fn.__name__ in CONTROLS:
            raise ValueError(f"control {fn.__name__!r} declared twice")
        CONTROLS[fn.__name__] = Control(fn.__name__, fn, read)
        return fn

    return register(handler) if handler is not None else register


def named_like(method: F, op: Control, first: str) -> F:
    """Give a generated method the operation's name, docstring and signature (for help() and errors)."""
    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = op.handler.__doc__
    self_param = inspect.Parameter(first, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = op.signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *op.signature.parameters.values()]
    )
    return method


def in_process_method(op: Control) -> Callable[..., Any]:
    """A :class:`WeChatStandIn` method running ``op`` on the stand-in's own core."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return op.call(self._core, *args, **kwargs)

    return named_like(method, op, "self")


def add_control_methods(cls: type, controls: dict[str, Control], make: Callable[[Control], Callable[..., Any]]) -> None:
    """Give ``cls`` one method per control, made by ``make`` (in-process or over HTTP).

    ``controls`` is :data:`CONTROLS` as ``areas`` exports it, i.e. after every area registered its own.
    """
    for op in controls.values():
        if op.name in vars(cls):
            raise TypeError(f"{cls.__name__}.{op.name} would hide the control of that name")
        setattr(cls, op.name, make(op))


def _error(status: int, message: str) -> Response:
    return json_response({"ok": False, "error": message}, status=status)


def _arguments(op: Control, request: Request) -> dict[str, Any] | Response:
    """A control's arguments: the query of a GET read, or the JSON object of a POST."""
    if request.method == "GET" and op.read:
        return dict(request.query)
    if request.method != "POST":
        return _error(405, "use POST for this control")
    parse_body(request)
    kwargs = request.body if request.raw else {}
    if request.body_error or not isinstance(kwargs, dict):
        return _error(400, "body must be a JSON object")
    return kwargs


def serve_control(core: Core, request: Request) -> Response:
    """Answer ``/_standin/<name>`` for other processes (JSON in, ``{"ok","result"}`` out)."""
    name = request.path[len(CONTROL_PREFIX) :]
    op = CONTROLS.get(name)
    if op is None:
        return _error(404, f"unknown control {name!r}")
    kwargs = _arguments(op, request)
    if isinstance(kwargs, Response):
        return kwargs
    try:
        result = op.call(core, **kwargs)
    except (TypeError, ValueError, KeyError) as exc:
        return _error(400, f"{type(exc).__name__}: {exc}")
    return json_response({"ok": True, "result": result})
