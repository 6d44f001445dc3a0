"""Bad input on every route: not JSON, unknown fields, wrong types, oversize bodies, markup in text.

Generated from the route registry and the matrix's valid requests, so a new
route is covered as soon as it is in the matrix.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.handlers.admin.api import REGISTRY
from tests.admin.test_authorization_matrix import ROUTES, V

OPS = {(op.method, op.path.removeprefix(V)): op for op in REGISTRY}
WITH_BODY = [r for r in ROUTES if OPS[(r.method, r.template)].body is not None]
WITHOUT_BODY = [r for r in ROUTES if OPS[(r.method, r.template)].body is None]
WITH_QUERY = [r for r in ROUTES if OPS[(r.method, r.template)].query is not None]
SCRIPT = "<script>alert(1)</script>"


def ids(route):
    return f"{route.method} {route.template}"


def send(matrix_world, route, body=None, raw=None, path_suffix=""):
    world, api = matrix_world
    path, base = route.make(world, "city")
    return api.as_(world.root_key).call(route.method, path + path_suffix, body if raw is None else None, raw=raw), base


def text_fields(model, base: dict) -> list[str]:
    """Fields of ``model`` that refuse markup (probed through the model itself)."""
    found = []
    for name in model.model_fields:
        try:
            model.model_validate_json(json.dumps({**base, name: SCRIPT}))
        except ValidationError as exc:
            if any(e["loc"][:1] == (name,) and "markup" in e["msg"] for e in exc.errors()):
                found.append(name)
    return found


@pytest.mark.parametrize("route", WITH_BODY, ids=ids)
def test_not_json(matrix_world, route):
    r, _ = send(matrix_world, route, raw="{not json")
    assert r.status_code == 400 and r.data["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("route", WITH_BODY, ids=ids)
def test_unknown_field(matrix_world, route):
    world, _ = matrix_world
    _, base = route.make(world, "city")
    r, _ = send(matrix_world, route, {**base, "is_admin": True})
    assert r.status_code == 400, r.data
    assert r.data["error"] == {"code": "unknown_field", "message": "unknown field", "field": "is_admin"}


@pytest.mark.parametrize("route", WITH_BODY, ids=ids)
def test_wrong_types(matrix_world, route):
    world, _ = matrix_world
    _, base = route.make(world, "city")
    model = OPS[(route.method, route.template)].body
    for name in model.model_fields:
        r, _ = send(matrix_world, route, {**base, name: [{"nested": 1}]})
        assert r.status_code == 400, (name, r.data)
        assert r.data["error"]["field"].split(".")[0] == name


@pytest.mark.parametrize("route", WITH_BODY, ids=ids)
def test_oversize_body(matrix_world, route):
    world, _ = matrix_world
    _, base = route.make(world, "city")
    op = OPS[(route.method, route.template)]
    r, _ = send(matrix_world, route, {**base, "padding": "x" * op.max_body})
    assert r.status_code == 413 and r.data["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("route", WITH_BODY, ids=ids)
def test_markup_in_text_fields(matrix_world, route):
    world, _ = matrix_world
    _, base = route.make(world, "city")
    model = OPS[(route.method, route.template)].body
    for name in text_fields(model, base):
        r, _ = send(matrix_world, route, {**base, name: f"大屏{SCRIPT}"})
        assert r.status_code == 400, (name, r.data)
        assert r.data["error"]["field"] == name


def test_text_fields_are_found():
    """The probe above must find the text fields, or that test would pass vacuously."""
    from chalicelib.handlers.admin import schemas as s

    assert text_fields(s.ScreenUpdate, {}) == ["name", "address", "province", "city", "district"]
    assert "title" in text_fields(s.ContentUpdate, {})


@pytest.mark.parametrize("route", WITHOUT_BODY, ids=ids)
def test_body_where_none_is_taken(matrix_world, route):
    r, _ = send(matrix_world, route, {"anything": 1})
    assert r.status_code == 400 and r.data["error"]["code"] == "unexpected_body"


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in WITH_QUERY], ids=ids)
def test_unknown_query_parameter(matrix_world, route):
    world, api = matrix_world
    path, base = route.make(world, "city")
    r = api.as_(world.root_key).call(route.method, f"{path}?admin=1", base)
    assert r.status_code == 400
    assert r.data["error"] == {"code": "unknown_field", "message": "unknown query parameter", "field": "admin"}


@pytest.mark.parametrize("route", WITH_QUERY, ids=ids)
def test_bad_query_values(matrix_world, route):
    world, api = matrix_world
    path, _ = route.make(world, "city")
    sep = "&" if "?" in path else "?"
    for param in OPS[(route.method, route.template)].query.model_fields.values():
        name = param.alias or next(
            k for k, v in OPS[(route.method, route.template)].query.model_fields.items() if v is param
        )
        r = api.as_(world.root_key).call(route.method, f"{path}{sep}{name}={'x' * 3000}", None)
        assert r.status_code == 400, (name, r.data)
        assert r.data["error"]["field"] == name
    r = api.as_(world.root_key).call(route.method, f"{path}{sep}bogus=1", None)
    assert r.status_code == 400 and r.data["error"]["field"] == "bogus"


def test_article_html_is_sanitised_and_notice_markup_refused(matrix_world):
    world, api = matrix_world
    api = api.as_(world.root_key)
    article = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "article",
            "title": "科普文章",
            "targets": {"units": [world.unit["city"]]},
            "body": '<h2>标题</h2><p onclick="x()">正文<script>alert(1)</script><a href="javascript:alert(1)">坏</a>'
            '<a href="https://kexie.example.cn">好</a><img src="http://x/a.png"><img src="https://x/b.png"></p>'
            '<iframe src="https://evil"></iframe>',
        },
    )
    assert article.status_code == 201, article.data
    body = article.data["body"]
    for bad in ("script", "onclick", "javascript", "iframe", "http://x/a.png"):
        assert bad not in body
    assert '<a href="https://kexie.example.cn" rel="noopener noreferrer">好</a>' in body
    assert '<img src="https://x/b.png">' in body and "<h2>标题</h2>" in body
    notice = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "通知",
            "body": "停水<img src=x onerror=alert(1)>",
            "targets": {"units": [world.unit["city"]]},
        },
    )
    assert notice.status_code == 400 and notice.data["error"]["field"] == "body"


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer nope", "Bearer ks_abc_def", "Bearer ks_zz!_x"])
def test_bad_credentials(matrix_world, header):
    _world, api = matrix_world
    r = api.as_(None).get(f"{V}/screens", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.data["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_path_parameters_are_bounded(matrix_world):
    world, api = matrix_world
    assert api.as_(world.root_key).get(f"{V}/screens/{'A' * 200}").status_code == 404
