"""The change history: who on the staff did what, in the reader's language, each role its own part.

Referral-side actions are in tests/referrals/test_history.py.
"""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from bindings.models import (
    BindingStatus,
    CustomerIdentifier,
    CustomFieldDefinition,
    EcoAccountBinding,
    FieldPublish,
    FieldScope,
    MatchingRule,
    VendorCustomer,
)
from hireops.core import audit
from hireops.events.models import EventStatus, FeishuEvent
from referrals.models import ReferralAccount

pytestmark = pytest.mark.django_db
HISTORY = "/admin/core/changehistoryentry/"


def entries(obj) -> list[LogEntry]:
    ct = ContentType.objects.get_for_model(obj)
    return list(LogEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("id"))


def read(entry: LogEntry) -> tuple[str, str]:
    """The entry's message as an English reader and a Chinese reader see it."""
    with translation.override("en"):
        english = audit.describe(entry)
    with translation.override("zh-hans"):
        chinese = audit.describe(entry)
    return english, chinese


def post_action(client, url, action, pks, **data):
    resp = client.post(url, {"action": action, "_selected_action": pks, **data})
    assert resp.status_code == 302, resp.content.decode()[:3000]


@pytest.fixture
def vendor(client, staff_user):
    user = staff_user("Vendor operations", username="vera")
    client.force_login(user)
    return user


@pytest.fixture
def binding():
    return EcoAccountBinding.objects.create(
        app_id="a", tenant_key="t", account_id="x1", scope=1, account_name="客户 A",
        status=BindingStatus.NEEDS_REVIEW, custom_field_values=[{"key": "org_id", "value": "ORG-1"}],
    )  # fmt: skip


def test_list_edit_of_custom_fields_is_logged_by_the_admin(client, vendor):
    field = CustomFieldDefinition.objects.create(scope=1, key="org_id", name_zh="机构", display_order=1)
    resp = client.post(
        "/admin/bindings/customfielddefinition/",
        {
            "form-TOTAL_FORMS": 1,
            "form-INITIAL_FORMS": 1,
            "form-0-id": field.pk,
            "form-0-display_order": 5,
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    assert resp.status_code == 302
    (entry,) = entries(field)
    assert (entry.user, entry.action_flag) == (vendor, CHANGE)
    assert read(entry) == ("Changed Display order.", "已修改显示顺序。")


def test_publish_is_recorded_on_the_scope(client, vendor):
    CustomFieldDefinition.objects.create(scope=1, key="org_id", name_zh="机构")
    post_action(client, "/admin/bindings/fieldscope/", "publish", [1])
    (entry,) = entries(FieldScope.objects.get(scope=1))
    pk = FieldPublish.objects.get().pk
    assert entry.user == vendor
    assert read(entry) == (
        f"Publish to Feishu requested (publish #{pk}).",
        f"已提交发布到飞书（发布 #{pk}）。",
    )


def test_bind_reject_and_rematch_are_recorded(client, vendor, binding):
    acme = VendorCustomer.objects.create(name="Acme 科技")
    url = "/admin/bindings/ecoaccountbinding/"
    post_action(client, url, "bind_to_customer", [binding.pk], apply=1, customer=acme.pk, reason="")
    post_action(client, url, "reject", [binding.pk], apply=1, reason="不是我们的客户")
    post_action(client, url, "bind_to_customer", [binding.pk], apply=1, customer=acme.pk, reason="电话确认")
    bound, rejected, bound_because = entries(binding)
    assert {e.user for e in (bound, rejected, bound_because)} == {vendor}
    assert read(bound) == ("Bound to customer Acme 科技.", "已绑定到客户 Acme 科技。")
    assert read(rejected) == ("Rejected: 不是我们的客户", "已拒绝：不是我们的客户")
    assert read(bound_because) == (
        "Bound to customer Acme 科技: 电话确认",
        "已绑定到客户 Acme 科技：电话确认",
    )

    # Re-running matching records only the bindings whose outcome changed.
    other = EcoAccountBinding.objects.create(
        app_id="a", tenant_key="t", account_id="x2", scope=1, status=BindingStatus.NEEDS_REVIEW,
        custom_field_values=[{"key": "org_id", "value": "ORG-2"}],
    )  # fmt: skip
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    CustomerIdentifier.objects.create(customer=acme, key="org_id", value="ORG-2")
    post_action(client, url, "rematch", [binding.pk, other.pk])
    assert len(entries(binding)) == 3  # decided by staff: left alone, nothing recorded
    (rematched,) = entries(other)
    assert read(rematched) == (
        "Matching re-run: bound to customer Acme 科技.",
        "已重新匹配：绑定到客户 Acme 科技。",
    )


def test_customer_form_changes_keep_djangos_own_messages(client, vendor):
    resp = client.post(
        "/admin/bindings/vendorcustomer/add/",
        {
            "name": "Globex 集团",
            "contact": "",
            "notes": "",
            "identifiers-TOTAL_FORMS": 1,
            "identifiers-INITIAL_FORMS": 0,
            "identifiers-0-key": "org_id",
            "identifiers-0-value": "ORG-9",
            "bindings-TOTAL_FORMS": 0,
            "bindings-INITIAL_FORMS": 0,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    (entry,) = entries(VendorCustomer.objects.get())
    assert (entry.user, entry.action_flag) == (vendor, ADDITION)
    english, chinese = read(entry)
    assert english == "Added. Added customer identifier “org_id = ORG-9”."
    assert chinese == "已添加。 添加了 客户识别值“org_id = ORG-9”。"


def test_reprocessing_events_is_recorded_per_event(client, vendor):
    failed = FeishuEvent.objects.create(
        event_id="e1", schema="2.0", event_type="hire.eco_account.created_v1", payload={},
        status=EventStatus.FAILED,
    )  # fmt: skip
    done = FeishuEvent.objects.create(
        event_id="e2", schema="2.0", event_type="hire.eco_account.created_v1", payload={},
        status=EventStatus.PROCESSED,
    )  # fmt: skip
    post_action(client, "/admin/events/feishuevent/", "reprocess", [failed.pk, done.pk])
    (entry,) = entries(failed)
    assert entry.user == vendor and read(entry) == ("Queued again for processing.", "已重新加入处理队列。")
    assert entries(done) == []  # not failed: left alone


def test_ours_next_to_djangos_items_and_an_unknown_message_still_read():
    entry = LogEntry(
        change_message=json.dumps(
            [
                {"changed": {"fields": ["display order"]}},
                {audit.KEY: {"message": "Rejected: %(reason)s", "params": {"reason": "重复"}}},
                {audit.KEY: {"message": "Not in the catalogue (%(n)s).", "params": {"n": 3}}},
            ]
        )
    )
    assert read(entry) == (
        "Changed display order. Rejected: 重复 Not in the catalogue (3).",
        "已修改显示顺序。 已拒绝：重复 Not in the catalogue (3).",
    )


# --- the list: each role its own part, read in the reader's language ------------------------------


@pytest.fixture
def recorded(django_user_model, binding):
    """One entry on each side: a binding, a referral account, an eco event, a referral event, a ticket."""
    boss = django_user_model.objects.create_superuser("boss", password="Pw-123456!")
    account = ReferralAccount.objects.create(
        name="王芳", email="fang@example.com", mobile_code="86", mobile_number="13800138000"
    )
    events = {
        kind: FeishuEvent.objects.create(
            event_id=f"evt-{kind}", schema="2.0", event_type=event_type, payload={}
        )
        for kind, event_type in [
            ("eco", "hire.eco_account.created_v1"),
            ("referral", "hire.referral_account.assets_update_v1"),
            ("ticket", "app_ticket"),
        ]
    }
    audit.record(boss, [binding], "Rejected: %(reason)s", {"reason": "duplicate"})
    audit.record(boss, [account], "Deactivation requested.")
    audit.record(boss, events.values(), "Queued again for processing.")
    return {"客户 A": binding, "王芳": account, **{e.event_id: e for e in events.values()}}


def history(client, user, query="", **headers) -> str:
    client.force_login(user)
    resp = client.get(HISTORY + query, **headers)
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


def test_each_role_sees_the_history_of_what_it_may_view(client, staff_user, recorded):
    def seen(user):
        page = history(client, user)
        return {name for name in recorded if name in page}

    assert seen(staff_user("Vendor operations")) == {"客户 A", "evt-eco"}
    assert seen(staff_user("HR")) == {"王芳", "evt-referral"}
    assert seen(staff_user("Auditor")) == set(recorded)
    client.force_login(staff_user(username="nobody"))
    assert client.get(HISTORY).status_code == 403

    # An entry of the other side cannot be opened by its address either.
    (hr_entry,) = entries(recorded["王芳"])
    client.force_login(staff_user("Vendor operations", username="vera"))
    assert client.get(f"{HISTORY}{hr_entry.pk}/change/").status_code == 302  # "doesn't exist", back to list
    client.force_login(staff_user("HR", username="hanna"))
    page = client.get(f"{HISTORY}{hr_entry.pk}/change/").content.decode()
    assert "Deactivation requested." in page and "fang@example.com" not in page


def test_history_list_reads_in_the_readers_language_and_links_the_object(client, staff_user, recorded):
    auditor = staff_user("Auditor")
    zh = history(client, auditor, HTTP_ACCEPT_LANGUAGE="zh-CN")
    # A reason typed with an action is free text: hidden whole from a reader without the
    # personal-data permission, the rest of the message read in the reader's language.
    for text in (
        "变更历史",
        "已拒绝：（已隐藏：个人数据）",
        "已发起停用。",
        "已重新加入处理队列。",
        "操作人",
    ):
        assert text in zh, text
    assert "生态账号绑定" in zh  # the type column
    assert f'<a href="/admin/bindings/ecoaccountbinding/{recorded["客户 A"].pk}/change/">客户 A</a>' in zh
    en = history(client, auditor, HTTP_ACCEPT_LANGUAGE="en")
    for text in (
        "Change history",
        "Rejected: (hidden: personal data)",
        "Deactivation requested.",
        "Eco-account binding",
    ):
        assert text in en, text
    assert "duplicate" not in zh + en
    assert "已拒绝" not in en
    # No personal data: the account reads as its name only.
    assert "fang@example.com" not in zh + en and "13800138000" not in zh + en
    # Newest first, and nothing to add, change or delete.
    assert en.index("Queued again for processing.") < en.index("Rejected: (hidden")
    assert "addlink" not in en and 'name="action"' not in en


def test_history_filters(client, staff_user, recorded):
    auditor = staff_user("Auditor")
    ct = ContentType.objects.get_for_model(EcoAccountBinding)
    page = history(client, auditor, f"?content_type__id__exact={ct.pk}")
    assert "客户 A" in page and "evt-eco" not in page
    page = history(client, auditor, "?q=evt-referral")
    assert "evt-referral" in page and "客户 A" not in page
    assert "boss" in history(client, auditor, "?action_flag__exact=2")
    assert "客户 A" not in history(client, auditor, "?action_flag__exact=1")


def test_object_history_page_shows_our_entries_in_both_languages(client, staff_user, recorded):
    client.force_login(staff_user("Vendor operations"))
    url = f"/admin/bindings/ecoaccountbinding/{recorded['客户 A'].pk}/history/"
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "已拒绝：（已隐藏：个人数据）" in zh and "boss" in zh and "变更历史" in zh
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rejected: (hidden: personal data)" in en and "No fields changed." not in en
    # Whoever may see personal data reads the reason itself.
    client.force_login(staff_user("Vendor operations", username="dpo", perms=["core.view_personal_data"]))
    assert "Rejected: duplicate" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_schedule_actions_need_the_change_permission_and_are_recorded(client, staff_user):
    from django_celery_beat.models import PeriodicTask

    url = "/admin/django_celery_beat/periodictask/"
    sweep = PeriodicTask.objects.get(task="referrals.pull_balances")  # one of HR's schedules
    client.force_login(staff_user("Auditor"))
    assert 'value="disable_tasks"' not in client.get(url).content.decode()
    client.post(url, {"action": "disable_tasks", "_selected_action": [sweep.pk]})
    sweep.refresh_from_db()
    assert sweep.enabled and entries(sweep) == []

    hr = staff_user("HR")
    client.force_login(hr)
    # Filtered on "enabled": the rows leave the list as they change, yet each is recorded.
    post_action(client, url + "?enabled__exact=1", "disable_tasks", [sweep.pk])
    post_action(client, url, "toggle_tasks", [sweep.pk])
    post_action(client, url, "run_tasks", [sweep.pk])
    disabled, enabled, run = entries(sweep)
    assert {disabled.user, enabled.user, run.user} == {hr}
    assert read(disabled) == ("Schedule disabled.", "已停用定时任务。")
    assert read(enabled) == ("Schedule enabled.", "已启用定时任务。")
    assert read(run) == ("Run now requested.", "已请求立即运行。")


def test_the_paginators_name_their_rows(admin_client, admin_user):
    """The change history counts "entries" (its name has no plural); other lists count their
    rows by the model's names, through the same paginator template."""
    for i in range(2):
        LogEntry.objects.create(
            user=admin_user,
            content_type=ContentType.objects.get_for_model(FeishuEvent),
            object_id=str(i),
            object_repr=f"event {i}",
            action_flag=ADDITION,
            change_message="[]",
        )
    page = admin_client.get("/admin/core/changehistoryentry/").content.decode()
    assert '<p class="paginator">' in page and "2 entries" in page
    FeishuEvent.objects.create(event_id="e1", schema="2.0", event_type="x", payload={})
    page = admin_client.get("/admin/events/feishuevent/").content.decode()
    assert "1 Feishu event\n" in page or "1 Feishu event " in page
