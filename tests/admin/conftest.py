from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from tests.admin.world import Api, build


@pytest.fixture
def world(aws, standin_server):
    standin_server.reset()
    return build(standin_server)


@pytest.fixture
def api(world):
    with Client(app) as client:
        yield Api(client, world.root_key)
