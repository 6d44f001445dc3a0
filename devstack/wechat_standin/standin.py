"""The stand-in itself: an in-memory api.weixin.qq.com served on a local port.

Why a thin class: the rules live in the API area modules and the controls in
:data:`~devstack.wechat_standin.controls.CONTROLS`; this class owns the
lifecycle (start, stop, the base URL) and gets one method per control
operation from that table, so ``standin.follow(...)`` in a test and
``StandInClient(url).follow(...)`` in another process are the same operation.
"""

from __future__ import annotations

import threading
from typing import Self

from devstack.wechat_standin.areas import CONTROLS
from devstack.wechat_standin.controls import add_control_methods, in_process_method
from devstack.wechat_standin.core import AccountDirectory, Core
from devstack.wechat_standin.dispatch import dispatch
from devstack.wechat_standin.server import Server
from devstack.wechat_standin.wire import Request, Response


class WeChatStandIn:
    """An in-memory api.weixin.qq.com with controls for tests and the local runner.

    All state lives in one core guarded by one lock; request handling runs
    under that lock (latency sleeps happen outside it, so a slow path does not
    stall the others).  Every control operation (``register_account``,
    ``follow``, ``inject_failure``, ``calls`` …) is a method, made from
    :data:`CONTROLS`.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, seed: int = 0, directory: AccountDirectory | None = None
    ) -> None:
        self._host = host
        self._port = port
        self._core = Core(seed, directory)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def use_directory(self, directory: AccountDirectory | None) -> None:
        """Where to look up an appid the stand-in has not been told about (``make dev``: the system's own
        accounts table and secrets), so every account the system has is known to "WeChat" too."""
        with self._core.lock:
            self._core.directory = directory

    def _dispatch(self, request: Request) -> Response:
        return dispatch(self._core, request)

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread, so tests need no cleanup to exit."""
        if self._server is not None:
            return self
        self._server = Server((self._host, self._port), self._dispatch)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns promptly
            name="wechat-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Value for ``WECHAT_API_BASE`` (no trailing slash)."""
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._port}"


add_control_methods(WeChatStandIn, CONTROLS, in_process_method)
