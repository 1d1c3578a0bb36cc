"""Publishing custom fields to the sandbox over HTTP."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections

from bindings.models import CustomFieldDefinition, FieldPublish, FieldScope, PublishStatus
from bindings.publishing import (
    PublishRefused,
    field_publish_run,
    fields_publish_request,
    scope_state,
    scope_touch,
)

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS_PATH = "/open-apis/hire/v1/eco_account_custom_fields"


def make_field(scope=1, key="account_token", **kw):
    defaults = {"name_zh": "账号令牌", "name_en": "Account token", "is_required": True}
    field = CustomFieldDefinition.objects.create(scope=scope, key=key, **{**defaults, **kw})
    scope_touch(scope)
    return field


def sandbox_fields(sandbox, scope):
    for entry in sandbox.state()["custom_fields"]:
        if entry["scope"] == scope:
            return entry["fields"]
    return None


def test_publish_sends_exactly_the_active_fields_of_one_scope(sandbox, admin_user):
    make_field(1, "account_token", display_order=2)
    make_field(
        1,
        "org_id",
        name_zh="组织编号",
        name_en="",
        is_required=False,
        display_order=1,
        description_zh="在后台查看",
    )
    make_field(1, "retired", is_active=False)
    make_field(2, "exam_key")

    publish = fields_publish_request(1, admin_user)
    publish.refresh_from_db()
    assert publish.status == PublishStatus.SUCCEEDED, publish.error
    calls = sandbox.requests(FIELDS_PATH)
    assert len(calls) == 1
    body = calls[0]["json"]
    assert body["scope"] == 1
    assert [f["key"] for f in body["custom_field_list"]] == ["org_id", "account_token"]
    assert body["custom_field_list"][0] == {
        "key": "org_id",
        "name": {"zh_cn": "组织编号", "en_us": "组织编号"},
        "is_required": False,
        "description": {"zh_cn": "在后台查看", "en_us": ""},
    }
    assert publish.payload == body and publish.log_id and publish.requested_by == admin_user
    assert [f["key"] for f in sandbox_fields(sandbox, 1)] == ["org_id", "account_token"]
    assert sandbox_fields(sandbox, 2) is None
    state = FieldScope.objects.get(scope=1)
    assert not state.has_unpublished_changes and FieldScope.objects.get(scope=2).has_unpublished_changes


def test_empty_scope_is_refused_and_nothing_is_sent(sandbox):
    make_field(2, "exam_key", is_active=False)
    with pytest.raises(PublishRefused, match="no active custom field"):
        fields_publish_request(2)
    assert FieldPublish.objects.count() == 0 and sandbox.requests(FIELDS_PATH) == []
    with pytest.raises(CommandError, match="no active custom field"):
        call_command("feishu_publish_fields", "--scope", "2")


def test_feishu_error_leaves_a_failed_publish_with_code_and_log_id(sandbox):
    make_field()
    sandbox.add_fault(FIELDS_PATH, "5xx", count=20, status=500)
    publish = fields_publish_request(1)
    publish.refresh_from_db()
    assert publish.status == PublishStatus.FAILED
    assert publish.error_code == 1002001 and publish.log_id
    assert "1002001" in publish.error
    assert FieldScope.objects.get(scope=1).has_unpublished_changes  # still to be published


def queued(scope=1):
    """A publish whose task has not run yet (what fields_publish_request leaves for the worker)."""
    return FieldPublish.objects.create(scope=scope)


def test_stale_publish_cannot_overwrite_a_newer_one(sandbox):
    make_field(1, "v1_key")
    stale = queued()  # requested while the list was [v1_key]
    CustomFieldDefinition.objects.filter(key="v1_key").update(is_active=False)
    make_field(1, "v2_key")
    newer = queued()

    assert field_publish_run(newer.pk) == PublishStatus.SUCCEEDED
    assert field_publish_run(stale.pk) == PublishStatus.SUCCEEDED  # the late worker runs after
    assert [f["key"] for f in sandbox_fields(sandbox, 1)] == ["v2_key"]
    bodies = [c["json"]["custom_field_list"] for c in sandbox.requests(FIELDS_PATH)]
    assert [[f["key"] for f in b] for b in bodies] == [["v2_key"], ["v2_key"]]
    assert field_publish_run(stale.pk) == PublishStatus.SUCCEEDED  # a redelivered task does nothing
    assert len(sandbox.requests(FIELDS_PATH)) == 2


def test_concurrent_publishes_of_one_scope_serialize(sandbox):
    make_field()
    first, second = queued(), queued()
    sandbox.add_fault(FIELDS_PATH, "slow", count=1, delay=1.0)
    results = {}

    def run(pk):
        try:
            results[pk] = field_publish_run(pk)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(p.pk,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {first.pk: PublishStatus.SUCCEEDED, second.pk: PublishStatus.SUCCEEDED}
    t1, t2 = sorted(c["time"] for c in sandbox.requests(FIELDS_PATH))
    assert t2 - t1 >= 0.9, "the second publish reached Feishu while the first was still running"


def test_admin_edit_marks_scope_and_publish_action(sandbox, admin_client):
    resp = admin_client.post(
        "/admin/bindings/customfielddefinition/add/",
        {
            "scope": 1,
            "key": "account_token",
            "name_zh": "账号令牌",
            "name_en": "",
            "is_active": "on",
            "display_order": 0,
            "description_zh": "",
            "description_en": "",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert FieldScope.objects.get(scope=1).has_unpublished_changes
    page = admin_client.get("/admin/bindings/customfielddefinition/").content.decode()
    assert "unpublished changes" in page or "未发布" in page

    resp = admin_client.post(
        "/admin/bindings/fieldscope/", {"action": "publish", "_selected_action": [1, 2]}, follow=True
    )
    page = resp.content.decode()
    assert FieldPublish.objects.get(scope=1).status == PublishStatus.SUCCEEDED
    assert not FieldScope.objects.get(scope=1).has_unpublished_changes
    assert FieldPublish.objects.filter(scope=2).count() == 0  # refused: nothing to publish
    assert "no active custom field" in page


def test_admin_rejects_a_bad_key_and_a_nameless_field(admin_client):
    resp = admin_client.post(
        "/admin/bindings/customfielddefinition/add/",
        {
            "scope": 1,
            "key": "9 bad key",
            "name_zh": "",
            "name_en": "",
            "display_order": 0,
        },
    )
    assert resp.status_code == 200 and CustomFieldDefinition.objects.count() == 0
    assert not scope_state(1).has_unpublished_changes
