"""Serve the Chalice app over real HTTP on this machine (Chalice's own local server, threaded)."""

from __future__ import annotations

import threading

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer


class QuietRequestHandler(ChaliceRequestHandler):
    """Chalice's handler without a stderr line per request (the pump polls; tests run thousands)."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_api(app: Chalice, host: str = "127.0.0.1", port: int = 8000, stage: str = "dev") -> LocalDevServer:
    """Start serving ``app`` in a daemon thread; ``server.shutdown()`` stops it."""
    config = Config.create(chalice_stage=stage, app_name=app.app_name)
    if not isinstance(app, LocalChalice):
        # What chalice's create_local_server does, once: a thread-local current_request for the threaded server.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, config, host, port, handler_cls=QuietRequestHandler)
    server.server.daemon_threads = True
    threading.Thread(target=server.server.serve_forever, name="chalice-local", daemon=True).start()
    return server


def base_url(server: LocalDevServer) -> str:
    host, port = server.server.server_address[:2]
    return f"http://{host}:{port}"
