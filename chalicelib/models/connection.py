"""One botocore session per thread for every table model, instead of one per model.

pynamodb gives each model's connection a botocore session of its own, and each
new session parses DynamoDB's service description again: 50-90 ms and a copy
of the parsed description per model, 3.5 s for the 29 models in one process
(measured; a client on an existing session takes 3 ms).  Lambda pays that on
every cold start for every table a function touches, and so does every local
process (``make dev``, each test worker).

pynamodb keeps its sessions per thread because botocore's client creation is
not thread-safe (pynamodb issue #153), so the shared session is per thread too.
pynamodb has no setting for the session; its connection module's
``get_session`` is the one seam, and this module is the only place it is set.
"""

from __future__ import annotations

import threading

import botocore.session
from pynamodb.connection import base as pynamodb_connection

_per_thread = threading.local()


def thread_session() -> botocore.session.Session:
    """This thread's botocore session, made on first use and shared by every model's connection."""
    session = getattr(_per_thread, "session", None)
    if session is None:
        session = _per_thread.session = botocore.session.get_session()
    return session


def share_sessions_per_thread() -> None:
    """Make pynamodb's connections take their session from ``thread_session`` (idempotent)."""
    pynamodb_connection.get_session = thread_session
