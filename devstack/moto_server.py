"""Start AWS on one machine: moto in server mode, and every SDK client of this process pointed at it.

Why server mode rather than ``mock_aws``: the app, ``chalice local``, the
pump, a simulator and a developer's ``aws`` CLI may live in different threads
or processes, and all of them must see the same tables and queues.  A real
HTTP endpoint reached through ``AWS_ENDPOINT_URL`` gives exactly that without
any code path that exists only for local runs.

Before serving, :func:`start_moto` installs the shims of
:mod:`devstack.moto_locks` (DynamoDB's and SQS's ordering guarantees) and
:mod:`devstack.moto_scale` (DynamoDB costs bounded by the items a request
touches).

Endpoint resolution
    Nothing here passes ``endpoint_url=``.  botocore (>= 1.31) resolves the
    global ``AWS_ENDPOINT_URL`` variable for every service, and pynamodb 6.1
    builds its client with ``session.create_client(..., endpoint_url=Meta.host)``
    -- with ``Meta.host`` unset that is ``None`` and botocore's standard
    resolution applies, so pynamodb honours ``AWS_ENDPOINT_URL`` too (checked
    against pynamodb 6.1.0 / botocore 1.44).  The one catch is timing: pynamodb
    caches its connection on the model class and boto3 clients capture the
    endpoint when created, so :func:`configure_env` must run before the first
    client or model connection is made.

China regions
    moto 5.2.5 accepts ``cn-north-1``: SQS and DynamoDB return ``arn:aws-cn:``
    ARNs, a redrive policy naming an ``aws-cn`` DLQ ARN works, and S3 accepts
    ``LocationConstraint=cn-north-1`` (path-style addressing, because the
    endpoint is an IP address).  So the local default is the production
    default, ``cn-north-1``, and no fallback to ``us-east-1`` is needed.
"""

from __future__ import annotations

import logging
import os

from moto.server import ThreadedMotoServer

from devstack.moto_locks import serialise_dynamodb, serialise_sqs_receives
from devstack.moto_scale import bounded_index_queries, bounded_transactions, count_table_copies

log = logging.getLogger(__name__)

DEFAULT_REGION = "cn-north-1"
DUMMY_CREDENTIAL = "testing"


def start_moto(host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> tuple[ThreadedMotoServer, str]:
    """Start moto's HTTP server in a daemon thread; returns it and its endpoint URL.

    ``port=0`` lets the OS choose a free port, so parallel test runs and a
    running ``make dev`` never collide.  ``quiet`` raises werkzeug's logger to
    WARNING: otherwise every request of every poll is printed.  Stop the
    server with ``server.stop()``.
    """
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serialise_dynamodb()
    if os.environ.get("KEPU_MOTO_RACY_SQS") != "1":  # only to show moto's own behaviour
        serialise_sqs_receives()
    if os.environ.get("KEPU_MOTO_WHOLE_TABLE_COPIES") != "1":  # only to measure moto's own behaviour
        bounded_transactions()
    if os.environ.get("KEPU_MOTO_FULL_QUERIES") != "1":
        bounded_index_queries()
    count_table_copies()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=not quiet)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint_url = f"http://{bound_host}:{bound_port}"
    log.info("moto server listening on %s", endpoint_url)
    return server, endpoint_url


def configure_env(endpoint_url: str) -> dict[str, str]:
    """Point every AWS SDK client in this process (and its children) at ``endpoint_url``.

    Credentials are always replaced by dummies so a developer's real keys can
    never be used by a local run; session tokens, profiles and per-service
    endpoint overrides (``AWS_ENDPOINT_URL_<SERVICE>``) are removed because
    they would take precedence over, or be paired with, the values set here.
    The region keeps an existing ``AWS_DEFAULT_REGION``/``AWS_REGION`` and
    defaults to ``cn-north-1``.  Returns the variables set, e.g. to pass to a
    ``chalice local`` subprocess.
    """
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in {
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_PROFILE",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        }:
            del os.environ[name]
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    os.environ.update(values)
    return values
