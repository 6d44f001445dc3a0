"""Powertools Tracer: subsegments in Lambda, a plain call (and no X-Ray SDK) everywhere else.

Each case runs a fresh interpreter (patching botocore for X-Ray must not leak
into the test process).  The traced case plays Lambda: ``LAMBDA_TASK_ROOT``
and a sampled trace header, with the X-Ray daemon address pointing at a UDP
socket of this test, so what the SDK would send to X-Ray is read back here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WECHAT_API = "chalicelib.wechat.client.KepuWeChatClient._request"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
BASE_ENV = {
    "PATH": "/usr/bin:/bin",
    "STAGE": "dev",
    "AWS_DEFAULT_REGION": "cn-north-1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

# A real SQS handler through Chalice's event-source wrapper (an unparseable message: reported failed, no AWS call),
# a WeChat API call through the project's client, and a traced function that raises.
SCRIPT = """
import json, sys
from chalicelib import tracing
from chalicelib.entries.push_planner import handler as plan_pushes  # as the Lambda function runs it
from chalicelib.wechat.client import KepuWeChatClient

class Tokens:
    def get(self, appid): return "token-1"
    def invalidate(self, appid, bad): return "token-2"

event = {"Records": [{"messageId": "m-1", "body": "not json", "receiptHandle": "r", "attributes": {},
                      "messageAttributes": {}, "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:1:q"}]}
assert plan_pushes(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
menu = KepuWeChatClient("wx0000000000000001", "secret", Tokens()).menu.get()
assert menu["menu"] == {"button": []}, menu

@tracing.capture_method
def failing():
    raise KeyError("boom")

try:
    failing()
except KeyError:
    pass
else:
    raise AssertionError("the traced call swallowed its error")
print(json.dumps({"xray_loaded": "aws_xray_sdk" in sys.modules,
                  "traced_as": [plan_pushes.func.traced_as, KepuWeChatClient._request.traced_as]}))
"""


class _Menu(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"menu": {"button": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _run(env: dict[str, str]) -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Menu)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**BASE_ENV, "WECHAT_API_BASE": f"http://127.0.0.1:{server.server_port}", **env}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _names(entity: dict) -> list[str]:
    found = [entity.get("name", "")]
    for child in entity.get("subsegments", []):
        found += _names(child)
    return found


def test_outside_lambda_or_disabled_a_traced_call_is_a_plain_call_without_the_xray_sdk():
    local = _run({})  # tests and make dev: no LAMBDA_TASK_ROOT
    disabled = _run({"LAMBDA_TASK_ROOT": str(REPO), "POWERTOOLS_TRACE_DISABLED": "true"})
    for outcome in (local, disabled):
        assert outcome["xray_loaded"] is False
        assert outcome["traced_as"] == ["plan_pushes", WECHAT_API]


def test_in_lambda_the_handler_the_wechat_call_and_a_failure_are_subsegments():
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(0.5)
    port = daemon.getsockname()[1]
    try:
        outcome = _run(
            {
                "LAMBDA_TASK_ROOT": str(REPO),
                "_X_AMZN_TRACE_ID": TRACE_HEADER,
                "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
                "AWS_XRAY_CONTEXT_MISSING": "RUNTIME_ERROR",
            }
        )
        documents = []
        while True:
            try:
                datagram = daemon.recv(65536)
            except TimeoutError:
                break
            header, _, body = datagram.decode().partition("\n")
            assert json.loads(header)["format"] == "json"
            documents.append(json.loads(body))
    finally:
        daemon.close()
    assert outcome["xray_loaded"] is True
    names = [name for document in documents for name in _names(document)]
    assert {"## plan_pushes", f"## {WECHAT_API}", "## __main__.failing"} <= set(names), names
    handler = next(d for d in documents if d["name"] == "## plan_pushes")
    assert handler["annotations"] == {"ColdStart": True, "Service": "kepuscreen"}
    assert handler["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    failing = next(d for d in documents if d["name"] == "## __main__.failing")
    assert failing["fault"] is True or failing.get("error") is True
    for document in documents:  # no response bodies (tokens, personal data) in trace metadata
        assert "response" not in json.dumps(document.get("metadata", {}))
        assert "token-1" not in json.dumps(document)
