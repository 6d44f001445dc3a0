"""Each account's MP_verify_*.txt, set through the admin API, served at the root of the phone pages' domain."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.dal import accounts as account_repo
from tests.admin.conftest import api, world  # noqa: F401 -- fixtures
from tests.admin.test_content_workflow import V


@pytest.fixture(autouse=True)
def _fresh_cache():
    account_repo.clear()


def test_an_account_sets_its_check_file_and_the_domain_root_serves_it(api, world):  # noqa: F811
    appid = world.appid["city"]
    answer = api.patch(
        f"{V}/accounts/{appid}", {"mp_verify_file": "MP_verify_Ab12Cd34.txt", "mp_verify_content": "Ab12Cd34"}
    )
    assert answer.status_code == 200, answer.data
    assert answer.data["mp_verify_file"] == "MP_verify_Ab12Cd34.txt"
    trail = api.get(f"{V}/audit/account/{appid}")
    assert trail.status_code == 200 and "account.update" in str(trail.data)
    with Client(app) as client:
        served = client.http.get("/MP_verify_Ab12Cd34.txt")
        assert served.status_code == 200 and served.body == b"Ab12Cd34"
        assert {k.lower(): v for k, v in served.headers.items()}["content-type"].startswith("text/plain")
        for other in ("/MP_verify_Other99.txt", "/robots.txt", "/MP_verify_..%2F.txt"):
            assert client.http.get(other).status_code == 404, other


def test_bad_check_files_are_refused_with_400(api, world):  # noqa: F811
    appid = world.appid["city"]
    for body in (
        {"mp_verify_file": "../../etc/passwd"},
        {"mp_verify_file": "MP_verify_x.html"},
        {"mp_verify_content": "<script>"},
    ):
        assert api.patch(f"{V}/accounts/{appid}", body).status_code == 400, body
