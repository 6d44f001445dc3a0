"""Every table model's first request reuses one parse of DynamoDB's service description (cold starts).

pynamodb alone gave each model a botocore session of its own, so a process parsed the description
once per model: 29 times, 3.5 s, on every Lambda cold start for the tables a function touches.
A fresh process makes a real first request per model against the emulator and counts the parses.
"""

from __future__ import annotations

import os

from tests.support import REPO, emulator_env, fresh_python

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
    counts = fresh_python(FIRST_REQUESTS, emulator_env({**os.environ, "PYTHONPATH": str(REPO)}))[-1]
    assert counts["exist"] == counts["models"] > 20  # real requests, answered by the emulator
    assert counts["parses"] == 1, counts
