"""The client for the ``/_standin`` controls, for another process (the CLI simulator, demo seeding).

Why generated: its methods are made from the same :data:`CONTROLS` table the
server answers from, with the operation's own signature and docstring, so a
new control operation is usable over HTTP the moment it is declared, and a
wrong argument fails here (``TypeError``) before any request is sent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from devstack.wechat_standin.areas import CONTROLS
from devstack.wechat_standin.controls import CONTROL_PREFIX, Control, add_control_methods, named_like
from devstack.wechat_standin.errors import StandInError


class StandInClient:
    """Same control methods as :class:`~devstack.wechat_standin.WeChatStandIn`, over HTTP (stdlib only)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, op: Control, arguments: dict[str, Any]) -> Any:
        """Reads go as GET with their arguments in the query (None left out), the rest as a JSON POST."""
        url = f"{self.base_url}{CONTROL_PREFIX}{op.name}"
        data = None
        if op.read:
            query = {k: v for k, v in arguments.items() if v is not None}
            if query:
                url += "?" + urllib.parse.urlencode(query)
        else:
            data = json.dumps(arguments, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - base_url is the stand-in's own http URL
            url, data=data, method="GET" if op.read else "POST"
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            payload = json.loads(exc.read().decode("utf-8") or "{}")
            raise StandInError(payload.get("error") or f"HTTP {exc.code}") from None
        return payload.get("result")


def remote_method(op: Control) -> Any:
    """A :class:`StandInClient` method sending ``op`` with its arguments checked against its signature."""
    signature = op.signature

    def method(self: StandInClient, *args: Any, **kwargs: Any) -> Any:
        return self._call(op, dict(signature.bind(*args, **kwargs).arguments))

    return named_like(method, op, "self")


add_control_methods(StandInClient, CONTROLS, remote_method)
