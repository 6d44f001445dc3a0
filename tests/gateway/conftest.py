from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from devstack.wechat_messages import SignedRequest, reply_content


class Gateway:
    """Posts signed requests to the callback route through Chalice's test client."""

    def __init__(self, client: Client):
        self.client = client

    def post(self, appid: str, request: SignedRequest, *, content_type: str = "text/xml"):
        return self.client.http.post(
            f"/wechat/{appid}?{request.query_string}",
            headers={"Content-Type": content_type},
            body=request.body,
        )

    def say(self, sender, request: SignedRequest) -> str:
        """Post and return the reply's text content (decrypting in safe mode)."""
        response = self.post(sender.appid, request)
        assert response.status_code == 200, response.body
        body = response.body.decode()
        return "" if body == "success" else reply_content(sender.open_reply(body))


@pytest.fixture
def gateway(demo):
    with Client(app) as client:
        yield Gateway(client)
