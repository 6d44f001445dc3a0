"""Every table model's first request reuses one parse of DynamoDB's service description (cold starts).

pynamodb alone gave each model a botocore session of its own, so a process parsed the description
once per model: 29 times, 3.5 s, on every Lambda cold start for the tables a function touches.
A fresh process makes a real first request per model against the emulator and counts the parses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FIRST_REQUESTS = """
import threading
import json
import botocore.loaders
parsed_by = set()  # each loader parses a description once, then answers from its own cache
original = botocore.loaders.Loader.load_service_model
def counting(self, service_name, type_name, api_version=None):
    if service_name == "dynamodb" and type_name == "service-2":
        parsed_by.add(id(self))
    return original(self, service_name, type_name, api_version)
botocore.loaders.Loader.load_service_model = counting
from chalicelib.models import ALL_MODELS
exists = [model.exists() for model in ALL_MODELS]
worker = threading.Thread(target=lambda: [model.exists() for model in ALL_MODELS])  # clients are made once
worker.start(); worker.join()
print(json.dumps({"models": len(ALL_MODELS), "exist": sum(exists), "parses": len(parsed_by)}))
"""


def test_the_models_first_requests_parse_the_dynamodb_description_once(aws):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["exist"] == counts["models"] > 20  # real requests, answered by the emulator
    assert counts["parses"] == 1, counts
