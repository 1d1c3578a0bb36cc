"""What the libraries' admin pages say, in the reader's language: permissions, roles,
schedules, sign-in records, a colleague's password page, delete confirmations (found by the
browser crawl, tests/browser/test_crawl.py)."""

import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django_celery_beat.models import PeriodicTask

from hireops.core.auth.roles import VENDOR_OPS, sync_roles
from hireops.core.schedules.registry import sync_schedules
from referrals.models import AccountStatus, ReferralAccount

pytestmark = pytest.mark.django_db
ZH, EN = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}, {"HTTP_ACCEPT_LANGUAGE": "en"}


def page(client, url: str, language: dict) -> str:
    response = client.get(url, **language)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_permissions_are_named_in_the_readers_language_whatever_migrate_stored(admin_client):
    sync_roles()
    group = Group.objects.get(name=VENDOR_OPS)
    # migrate stores a name once, in the language it ran in: here Chinese for ours.
    Permission.objects.filter(codename="reprocess_feishuevent").update(name="可以重新处理失败事件")
    url = f"/admin/auth/group/{group.pk}/change/"
    zh, en = page(admin_client, url, ZH), page(admin_client, url, EN)
    assert "飞书事件 | 飞书事件 | 可以重新处理失败事件" in zh and "可查看飞书事件</option>" in zh
    assert "Can view Feishu event</option>" not in zh and "Can add" not in zh
    assert "Feishu events | Feishu event | Can reprocess failed events" in en
    assert "Can view Feishu event</option>" in en and "可以重新处理" not in en


def test_the_group_and_user_pickers_say_how_they_work_in_the_readers_language(
    admin_client, django_user_model
):
    """Not Django's "Hold down Control, or Command on a Mac" (key names, even in its Chinese),
    and the field's own help kept."""
    group = Group.objects.create(name="Pickers")
    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    for url in (f"/admin/auth/group/{group.pk}/change/", f"/admin/auth/user/{colleague.pk}/change/"):
        zh, en = page(admin_client, url, ZH), page(admin_client, url, EN)
        assert "Control" not in zh and "Command" not in zh and "按住" not in zh, url
        assert "双击一项即可将其移到另一侧列表" in zh, url
        assert "Hold down" not in en and "Double-click an entry to move it to the other list" in en, url
    zh = page(admin_client, f"/admin/auth/user/{colleague.pk}/change/", ZH)
    assert zh.count("双击一项即可将其移到另一侧列表") == 2  # groups and permissions
    assert "一个用户将得到其归属的组的所有权限" in zh  # Django's own help for the groups, before ours


def test_a_plain_forms_labels_start_with_a_capital_as_a_model_forms_do(admin_client):
    """The withdrawal's confirmation asks "Points:", not "points:" (the model's verbose name)."""
    account = ReferralAccount.objects.create(
        name="王芳", email="fang@example.com", account_id="acc-1", status=AccountStatus.ACTIVE
    )
    response = admin_client.post(
        "/admin/referrals/referralaccount/", {"action": "withdraw", "_selected_action": [account.pk]}, **EN
    )
    page = response.content.decode()
    assert '<label for="id_points">Points:</label>' in page and '<label for="id_cash">Cash:</label>' in page


def test_roles_and_schedules_read_in_chinese_where_their_names_are_shown(admin_client):
    sync_roles()
    sync_schedules()
    group = Group.objects.get(name=VENDOR_OPS)
    zh = page(admin_client, f"/admin/auth/group/{group.pk}/change/", ZH)
    assert "<title>服务商运营 |" in zh and "&rsaquo; 服务商运营" in zh  # the name stays editable as stored
    schedule = PeriodicTask.objects.get(name="Orders: purge candidates' data of orders ended long ago")
    zh = page(admin_client, f"/admin/django_celery_beat/periodictask/{schedule.pk}/change/", ZH)
    assert "Orders: purge" not in zh and "False" not in zh and "None" not in zh
    assert "停用的定时任务不会运行" in zh and "上次运行" in zh


def test_sign_in_records_are_named_in_the_readers_language_and_local_time(admin_client):
    AccessFailureLog.objects.create(
        username="intruder", ip_address="203.0.113.7", user_agent="x", http_accept="x", path_info="/"
    )
    AccessAttempt.objects.create(username="intruder", ip_address="203.0.113.7", failures_since_start=1)
    AccessLog.objects.create(username="guest", ip_address="127.0.0.1", user_agent="x", http_accept="x")
    for model, zh_text, en_text in (
        (AccessFailureLog, "intruder 从 203.0.113.7 登录失败", "Failed sign-in as intruder from 203.0.113.7"),
        (AccessAttempt, "intruder 从 203.0.113.7 的失败登录", "Failed sign-ins as intruder from 203.0.113.7"),
        (AccessLog, "guest 登录", "Sign-in as guest"),
    ):
        row = model.objects.exclude(username="admin").get()  # (the admin's own sign-in is logged too)
        url = f"/admin/axes/{model._meta.model_name}/{row.pk}/change/"
        zh, en = page(admin_client, url, ZH), page(admin_client, url, EN)
        assert zh_text in zh and en_text in en, model
        assert "+00:00" not in zh, "a UTC timestamp"
    assert '<th scope="col" class="column-status">' in page(admin_client, "/admin/axes/accessattempt/", EN)
    assert ">状态<" in page(admin_client, "/admin/axes/accessattempt/", ZH)


def test_a_colleagues_password_page_reads_in_the_readers_language(admin_client, django_user_model):
    colleague = django_user_model.objects.create_user("colleague", password="x", is_staff=True)
    url = f"/admin/auth/user/{colleague.pk}/password/"
    zh, en = page(admin_client, url, ZH), page(admin_client, url, EN)
    assert "停用后，该用户当前的密码将丢失。" in zh and "Single Sign-On" not in zh
    assert "If disabled, the current password for this user will be lost." in en
    assert "单一登入" not in en


def test_a_delete_confirmation_lists_no_link_rows(admin_client):
    sync_roles()
    group = Group.objects.get(name=VENDOR_OPS)
    zh = page(admin_client, f"/admin/auth/group/{group.pk}/delete/", ZH)
    assert "Group-permission" not in zh and "Group_permissions object" not in zh
    assert "服务商运营" in zh  # what is deleted is still named


def test_the_feishu_login_app_and_tokens_have_no_admin():
    """The app comes from settings (a second one in the database breaks the sign-in) and
    tokens are never stored."""
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken

    assert not admin.site.is_registered(SocialApp) and not admin.site.is_registered(SocialToken)
    assert admin.site.is_registered(SocialAccount)


def test_the_admins_own_tables_head_their_columns_with_a_capital_in_english(admin_client):
    """As Django's admin heads a list's columns ("Account", not "account"); Chinese as it is."""
    account = ReferralAccount.objects.create(
        name="王芳", email="fang@example.com", account_id="acc-1", status=AccountStatus.ACTIVE
    )
    asked = {"action": "withdraw", "_selected_action": [account.pk]}
    en = admin_client.post("/admin/referrals/referralaccount/", asked, **EN).content.decode()
    assert "<th>Account</th><th>Status</th><th>Points</th><th>Cash</th>" in en
    zh = admin_client.post("/admin/referrals/referralaccount/", asked, **ZH).content.decode()
    assert "<th>账户</th><th>状态</th><th>积分</th>" in zh
    templates = Path(__file__).parents[1] / "templates"
    lower = [
        f"{path.relative_to(templates)}: {head}"
        for path in templates.rglob("*.html")
        for head in re.findall(r'<th[^>]*>\{% translate "[a-z][^"]*" %\}', path.read_text())
    ]
    assert not lower, lower
