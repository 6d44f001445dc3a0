"""The manifest contract: the stored bytes, the content version and the published JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from chalicelib.contracts import manifest as contract
from chalicelib.contracts.manifest import Manifest, ManifestItem, manifest_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "manifest.schema.json"
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def _manifest(**changes) -> Manifest:
    item = ManifestItem(
        content_id="c1",
        kind="article",
        title="雪花为什么是六边形？",
        summary="摘要",
        body="<p>正文</p>",
        category="frontier",
        media=[contract.ManifestMedia(url="https://cdn.example.cn/m/ab.png", type="image/png")],
        link_url=None,
        duration=15,
        valid_from=datetime(2026, 11, 1, 8, tzinfo=CST),
        valid_until=None,
        weekly_windows=[contract.ManifestWindow(days=[1, 2], start="22:00", end="06:00")],
        priority="normal",
        urgent_until=None,
        published_at=datetime(2026, 11, 2, tzinfo=UTC),
        unit_name="鼓楼区科协",
    )
    fields = dict(
        api_base="https://kepu.example.cn",
        poll_seconds=10,
        heartbeat_seconds=30,
        screen=contract.ManifestScreen(id="NJ001", name="大屏", unit_name="鼓楼区科协", address=""),
        qr=contract.ManifestQr(url="https://weixin.qq.com/q/x", svg="<svg/>", caption="微信扫码 订阅本屏"),
        fan_count=3,
        items=[item],
    )
    return Manifest(**{**fields, **changes}).sealed(NOW)


def test_the_document_is_compact_utf8_json_in_field_order_with_utc_instants():
    text = _manifest().document().decode()
    assert text.startswith('{"schema":1,"api_base":"https://kepu.example.cn","poll_seconds":10,')
    assert text.endswith(f',"generated_at":"{NOW.isoformat()}"}}') and '"鼓楼区科协"' in text and ": " not in text
    item = json.loads(text)["items"][0]
    assert item["valid_from"] == "2026-11-01T00:00:00+00:00" and item["valid_until"] is None
    assert list(item) == list(ManifestItem.model_fields)


def test_the_version_follows_the_content_not_the_build_time():
    first, later = _manifest(), _manifest().sealed(NOW + timedelta(hours=1))
    assert first.version == later.version and len(first.version) == 64
    assert _manifest(fan_count=4).version != first.version


def test_a_stored_document_reads_back_as_the_same_manifest_and_fits_its_schema():
    manifest = _manifest()
    stored = json.loads(manifest.document())
    assert Manifest.model_validate(stored) == manifest
    jsonschema.validate(stored, manifest_schema())
    broken = {**stored, "items": [{**stored["items"][0], "priority": "high"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, manifest_schema())


def test_the_published_schema_is_the_models():
    """``docs/manifest.schema.json`` is what players may rely on; regenerate it with
    ``python -c 'from chalicelib.contracts.manifest import write_schema; write_schema()'``."""
    assert json.loads(SCHEMA_FILE.read_text()) == manifest_schema()
