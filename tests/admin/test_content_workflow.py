"""Every workflow transition, legal and illegal, and the queue messages they owe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.models import Content
from tests.admin.world import if_match

V = "/api/v1"


def notice(world, where="city", **extra):
    body = {
        "unit_id": world.unit[where],
        "kind": "notice",
        "title": "社区义诊通知",
        "body": "本周六上午9点",
        "category": "community_notice",
        "targets": {"units": [world.unit[where]]},
    }
    body.update(extra)
    return body


def make(api, world, **extra):
    r = api.post(f"{V}/content", notice(world, **extra))
    assert r.status_code == 201, r.data
    return r.data


def require_review(api, world, where="city"):
    r = api.patch(f"{V}/units/{world.unit[where]}", {"review_required": True})
    assert r.status_code == 200, r.data


def test_publish_without_review_enqueues_push_and_manifest_once(api, world, queues):
    editor = api.as_(world.keys["editor"])
    item = make(editor, world)
    assert item["status"] == "draft"
    published = editor.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(editor, item["content_id"]))
    assert published.status_code == 200, published.data
    assert published.data["status"] == "published"
    assert published.data["screen_ids"] == ["CI000", "DI001"]  # city and its subordinate district
    pushes, manifests = queues("push", keep_tracing=True), queues("manifest", keep_tracing=True)
    assert len(pushes) == 1
    job = pushes[0]
    assert job["type"] == "publish" and job["job_id"] == f"{item['content_id']}:{published.data['revision']}"
    assert job["screen_ids"] == ["CI000", "DI001"] and job["title"] == "社区义诊通知"
    tracing = {"correlation_id", "enqueued_at"}  # optional fields every message carries (chalicelib.observability)
    assert (
        set(job)
        == {
            "type",
            "job_id",
            "content_id",
            "revision",
            "unit_id",
            "screen_ids",
            "title",
            "summary",
            "kind",
            "category",
            "priority",
            "published_at",
        }
        | tracing
    )
    assert [{k: v for k, v in m.items() if k not in tracing} for m in manifests] == [
        {
            "type": "rebuild",
            "screen_ids": ["CI000", "DI001"],
            "reason": "content_published",
            "content_id": item["content_id"],
        }
    ]
    assert job["correlation_id"] == manifests[0]["correlation_id"]  # one admin call, one id
    # a retried publish answers the same and enqueues nothing new
    again = editor.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(editor, item["content_id"]))
    assert again.status_code == 200 and again.data["revision"] == published.data["revision"]
    assert queues("push") == [] and queues("manifest") == []
    assert Content.get(item["content_id"]).outbox is None


def test_retry_after_crash_resends_same_job_id(api, world, queues, monkeypatch):
    from chalicelib.services.content import outbox

    editor = api.as_(world.keys["editor"])
    item = make(editor, world)
    real_send = outbox.send
    monkeypatch.setattr(outbox, "send", lambda messages: (_ for _ in ()).throw(RuntimeError("SQS down")))
    failed = editor.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(editor, item["content_id"]))
    assert failed.status_code == 500
    assert Content.get(item["content_id"]).outbox  # owed messages kept with the change
    monkeypatch.setattr(outbox, "send", real_send)
    retried = editor.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(editor, item["content_id"]))
    assert retried.status_code == 200
    pushes = queues("push")
    assert [p["job_id"] for p in pushes] == [f"{item['content_id']}:{retried.data['revision']}"]
    assert Content.get(item["content_id"]).outbox is None


def test_push_off_sends_manifest_only(api, world, queues):
    item = make(api, world, push=False)
    cid = item["content_id"]
    assert api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).status_code == 200
    assert queues("push") == [] and len(queues("manifest")) == 1


def test_review_flow_all_transitions(api, world, queues):
    require_review(api, world)
    editor, reviewer = api.as_(world.keys["editor"]), api.as_(world.keys["reviewer"])
    item = make(editor, world)
    cid = item["content_id"]
    refused = editor.post(f"{V}/content/{cid}/publish", headers=if_match(editor, cid))
    assert refused.status_code == 403 and refused.data["error"]["code"] == "review_required"
    too_early = reviewer.post(f"{V}/content/{cid}/approve", headers=if_match(reviewer, cid))
    assert too_early.data["error"]["code"] == "invalid_transition"
    assert editor.post(f"{V}/content/{cid}/submit").data["status"] == "pending_review"
    # editors do not review
    assert editor.post(f"{V}/content/{cid}/approve", headers=if_match(editor, cid)).status_code == 403
    no_reason = reviewer.post(f"{V}/content/{cid}/reject", {})
    assert no_reason.status_code == 400 and no_reason.data["error"]["field"] == "reason"
    rejected = reviewer.post(f"{V}/content/{cid}/reject", {"reason": "时间写错了"})
    assert rejected.data["status"] == "rejected" and rejected.data["reject_reason"] == "时间写错了"
    edited = editor.patch(f"{V}/content/{cid}", {"body": "本周日上午9点"})
    assert edited.data["status"] == "draft"
    assert editor.post(f"{V}/content/{cid}/submit").data["status"] == "pending_review"
    approved = reviewer.post(f"{V}/content/{cid}/approve", headers=if_match(reviewer, cid))
    assert approved.data["status"] == "approved" and approved.data["reviewed_by"] == world.user["reviewer"]
    assert queues("manifest") == []
    published = editor.post(f"{V}/content/{cid}/publish", headers=if_match(editor, cid))
    assert published.data["status"] == "published"
    assert len(queues("push")) == 1 and len(queues("manifest")) == 1
    # editing published content sends it back to review and off the screens
    back = editor.patch(f"{V}/content/{cid}", {"title": "社区义诊通知（更新）"})
    assert back.data["status"] == "pending_review"
    assert queues("manifest") == [
        {"type": "rebuild", "screen_ids": ["CI000", "DI001"], "reason": "content_updated", "content_id": cid}
    ]
    assert queues("push") == []
    reviewer.post(f"{V}/content/{cid}/approve", headers=if_match(reviewer, cid))
    republished = editor.post(f"{V}/content/{cid}/publish", headers=if_match(editor, cid))
    assert republished.data["status"] == "published"
    assert queues("push")[0]["job_id"] == f"{cid}:{republished.data['revision']}"
    withdrawn = editor.post(f"{V}/content/{cid}/withdraw")
    assert withdrawn.data["status"] == "withdrawn"
    assert [m["reason"] for m in queues("manifest")] == ["content_published", "content_withdrawn"]


def test_author_cannot_approve_own_submission(api, world):
    require_review(api, world)
    item = make(api, world)  # root admin writes and submits
    api.post(f"{V}/content/{item['content_id']}/submit")
    own = api.post(f"{V}/content/{item['content_id']}/approve", headers=if_match(api, item["content_id"]))
    assert own.status_code == 403 and own.data["error"]["code"] == "own_content"


def test_superior_review_requirement_applies_below(api, world):
    require_review(api, world, "prov")
    item = make(
        api.as_(world.keys["editor"]),
        world,
        **{"unit_id": world.unit["district"], "targets": {"units": [world.unit["district"]]}},
    )
    editor = api.as_(world.keys["editor"])
    r = editor.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(editor, item["content_id"]))
    assert r.status_code == 403 and r.data["error"]["code"] == "review_required"


def test_edit_published_without_review_rebuilds_old_and_new_screens(api, world, queues):
    item = make(api, world, targets={"screens": ["CI000"]})
    api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    queues("push"), queues("manifest")
    edited = api.patch(f"{V}/content/{item['content_id']}", {"targets": {"screens": ["DI001"]}})
    assert edited.data["status"] == "published" and edited.data["screen_ids"] == ["DI001"]
    assert queues("manifest") == [
        {
            "type": "rebuild",
            "screen_ids": ["CI000", "DI001"],
            "reason": "content_updated",
            "content_id": item["content_id"],
        }
    ]
    assert queues("push") == []  # an edit is not news


@pytest.mark.parametrize(
    ("setup", "action", "code"),
    [
        ([], "withdraw", 409),
        ([], "approve", 409),
        ([], "reject", 409),
        (["submit"], "submit", 409),
        (["submit"], "withdraw", 409),
        (["submit"], "publish", 409),
        (["publish"], "submit", 409),
        (["publish"], "approve", 409),
        (["publish", "withdraw"], "publish", 409),
        (["publish", "withdraw"], "submit", 409),
    ],
)
def test_illegal_transitions(api, world, setup, action, code):
    item = make(api, world)
    for step in setup:
        assert (
            api.post(f"{V}/content/{item['content_id']}/{step}", headers=if_match(api, item["content_id"])).status_code
            == 200
        )
    r = api.post(
        f"{V}/content/{item['content_id']}/{action}",
        {"reason": "x"} if action == "reject" else None,
        headers=if_match(api, item["content_id"]),
    )
    assert r.status_code == code, r.data
    assert r.data["error"]["code"] == "invalid_transition"


def test_withdrawn_and_published_cannot_be_edited_or_deleted_wrongly(api, world):
    item = make(api, world)
    cid = item["content_id"]
    api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid))
    assert api.delete(f"{V}/content/{cid}").status_code == 409
    api.post(f"{V}/content/{cid}/withdraw")
    assert api.patch(f"{V}/content/{cid}", {"title": "x"}).status_code == 409
    assert api.delete(f"{V}/content/{cid}").status_code == 204
    assert api.get(f"{V}/content/{cid}").status_code == 404


def test_expiry_is_reported_and_blocks_publishing(api, world):
    soon = datetime.now(UTC) + timedelta(hours=1)
    item = make(api, world, valid_until=soon.isoformat())
    cid = item["content_id"]
    assert api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).data["status"] == "published"
    Content(cid).update(actions=[Content.valid_until.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert api.get(f"{V}/content/{cid}").data["status"] == "expired"
    listed = api.get(f"{V}/content?status=expired&unit_id={world.unit['city']}").data["items"]
    assert [i["content_id"] for i in listed] == [cid]
    assert api.get(f"{V}/content?status=published&unit_id={world.unit['city']}").data["items"] == []
    late = make(api, world, valid_until=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    Content(late["content_id"]).update(actions=[Content.valid_until.set(datetime.now(UTC) - timedelta(seconds=1))])
    r = api.post(f"{V}/content/{late['content_id']}/publish", headers=if_match(api, late["content_id"]))
    assert r.status_code == 409 and r.data["error"]["code"] == "expired"


def test_targets_outside_the_unit_are_refused_and_empty_targets_cannot_publish(api, world):
    r = api.post(f"{V}/content", notice(world, targets={"screens": ["TO002"]}))
    assert r.status_code == 400 and r.data["error"]["field"] == "targets.screens.0"
    r = api.post(f"{V}/content", notice(world, targets={"units": [world.unit["town"]]}))
    assert r.status_code == 400 and r.data["error"]["field"] == "targets.units.0"
    item = make(api, world, targets={"tags": ["no-such-tag"]})
    r = api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    assert r.status_code == 422 and r.data["error"]["code"] == "no_screens"


def test_tag_targets_resolve_within_the_subtree(api, world):
    item = make(api, world, targets={"tags": ["lobby"]})
    published = api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    assert published.data["screen_ids"] == ["CI000", "DI001"]
