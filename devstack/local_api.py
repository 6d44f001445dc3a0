"""Serve the Chalice app over real HTTP on this machine (Chalice's own local server, threaded)."""

from __future__ import annotations

import threading

from chalice import Chalice
from chalice.config import Config
from chalice.local import CustomLocalChalice, LocalDevServer, create_local_server


def start_api(app: Chalice, host: str = "127.0.0.1", port: int = 8000, stage: str = "dev") -> LocalDevServer:
    """Start serving ``app`` in a daemon thread; ``server.shutdown()`` stops it."""
    config = Config.create(chalice_stage=stage, app_name=app.app_name)
    if isinstance(app, CustomLocalChalice):  # served before: create_local_server would make a class cycle
        server = LocalDevServer(app, config, host, port)
    else:
        server = create_local_server(app, config, host, port)
    server.server.daemon_threads = True
    threading.Thread(target=server.server.serve_forever, name="chalice-local", daemon=True).start()
    return server


def base_url(server: LocalDevServer) -> str:
    host, port = server.server.server_address[:2]
    return f"http://{host}:{port}"
