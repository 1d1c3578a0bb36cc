"""The permissions that move money (docs/second-factor.md) are declared, do nothing until their holder has
a second factor (at the services themselves, whatever calls them), and the users list and the
forms that grant them say who holds one without a factor yet."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hireops.signin import second_factor
from referrals.models import AccountStatus, ExternalRewardDeletion, ReferralAccount, Withdrawal
from referrals.rewards.services import RewardInput, RewardRefused, reward_add, reward_delete_request
from referrals.withdrawals.services import WithdrawalRefused, withdrawal_request, withdrawal_retry
from tests.second_factor import give_totp

pytestmark = pytest.mark.django_db

MONEY = {
    "referrals.withdraw_referralaccount",
    "referrals.approve_payoutrun",
    "referrals.add_externalreferralreward",
    "referrals.delete_in_feishu_externalreferralreward",
}
NOT_YET = "Set up your second factor first"


def test_the_money_permissions_are_declared_and_need_a_second_factor(staff_user):
    assert second_factor.money_permissions() == MONEY
    assert second_factor.sensitive_permissions() >= MONEY
    for roles in (("HR",), ("HR", "HR withdrawals"), ("HR", "HR payout approvals")):
        user = staff_user(*roles, username="-".join(roles))
        assert second_factor.needs_second_factor(user) and second_factor.money_permissions_held(user)
    assert not second_factor.money_permissions_held(staff_user("Vendor operations"))
    with pytest.raises(ValueError, match="not declared a money permission"):
        second_factor.may_move_money(staff_user("Auditor"), "referrals.view_referralaccount")


def test_until_enrolled_a_money_permission_does_nothing(staff_user, django_user_model):
    withdrawer = staff_user("HR", "HR withdrawals", username="withdrawer")
    root = django_user_model.objects.create_superuser("root", password="x")
    vendor = staff_user("Vendor operations", username="vendor")
    for user in (withdrawer, root):
        assert not second_factor.may_move_money(user, "referrals.withdraw_referralaccount")
        give_totp(user)
        user = django_user_model.objects.get(pk=user.pk)  # a fresh permission cache
        assert second_factor.may_move_money(user, "referrals.withdraw_referralaccount")
    give_totp(vendor)
    assert not second_factor.may_move_money(vendor, "referrals.withdraw_referralaccount")
    assert not second_factor.may_move_money(None, "referrals.approve_payoutrun")


@pytest.fixture
def account():
    return ReferralAccount.objects.create(
        name="王芳",
        email="fang@example.com",
        account_id="7300000000000000001",
        status=AccountStatus.ACTIVE,
        points=10,
    )


def test_the_withdrawal_service_refuses_a_holder_without_a_factor(account, staff_user):
    """A path that never meets the admin's middleware (a background job, an API) meets the
    rule at the service: nothing is written, nothing is sent."""
    withdrawer = staff_user("HR", "HR withdrawals", username="withdrawer")
    with pytest.raises(WithdrawalRefused, match=NOT_YET):
        withdrawal_request(account, [1], withdrawer)
    with pytest.raises(WithdrawalRefused, match="do not hold the permission"):
        withdrawal_request(account, [1], staff_user("HR", username="hr"))
    assert not Withdrawal.objects.exists()

    stuck = Withdrawal.objects.create(account=account, external_order_id="o-1", bonus_types=[1])
    with pytest.raises(WithdrawalRefused, match=NOT_YET):
        withdrawal_retry(stuck, withdrawer)


@pytest.mark.django_db(transaction=True)
def test_an_enrolled_withdrawer_withdraws(register, staff_user):
    account = register(points=40)
    withdrawer = staff_user("HR", "HR withdrawals", username="withdrawer")
    give_totp(withdrawer)
    w = withdrawal_request(ReferralAccount.objects.get(pk=account.pk), [1], withdrawer)
    w.refresh_from_db()
    assert w.requested_by == withdrawer and w.status == "succeeded", w.error


def a_reward(external_id="ext-1"):
    return RewardInput.from_text(
        {
            "external_id": external_id,
            "employee_id": "u1",
            "talent_id": "t1",
            "rule_type": "1",
            "stage": "2",
            "points": "5",
        }
    )


def test_the_rewards_service_refuses_a_holder_without_a_factor(
    staff_user, django_capture_on_commit_callbacks
):
    hr = staff_user("HR", username="hr")
    with pytest.raises(RewardRefused, match=NOT_YET):
        reward_add(a_reward(), hr)
    give_totp(hr)
    with django_capture_on_commit_callbacks(execute=False):
        row, created = reward_add(a_reward(), hr)  # the call itself is another test's (not sent here)
    assert created and row.requested_by == hr

    another = staff_user("HR", username="hr-2")
    with pytest.raises(RewardRefused, match=NOT_YET):
        reward_delete_request(row, "entered twice", another)
    assert not ExternalRewardDeletion.objects.exists()


# --- the users list ---------------------------------------------------------------------------


def people(django_user_model, staff_user, start=0, n=1):
    """Each kind of user, ``n`` of each: who holds money permissions, with and without a factor."""
    made = {}
    for i in range(start, start + n):
        made[f"hr-{i}"] = staff_user("HR", username=f"hr-{i}")  # a group's permission, no factor
        made[f"direct-{i}"] = staff_user(username=f"direct-{i}", perms=["referrals.approve_payoutrun"])
        made[f"root-{i}"] = django_user_model.objects.create_superuser(f"root-{i}", password="x")
        enrolled = made[f"enrolled-{i}"] = staff_user("HR", "HR withdrawals", username=f"enrolled-{i}")
        give_totp(enrolled)
        made[f"vendor-{i}"] = staff_user("Vendor operations", username=f"vendor-{i}")
        gone = made[f"inactive-{i}"] = staff_user("HR", username=f"inactive-{i}")
        gone.is_active = False
        gone.save()
    return made


def listed(page: str) -> set[str]:
    return set(re.findall(r'<th class="field-username"><a href="[^"]+">([^<]+)</a>', page))


def test_the_users_list_shows_who_holds_money_permissions_without_a_factor(
    admin_client, django_user_model, staff_user
):
    people(django_user_model, staff_user)
    page = admin_client.get("/admin/auth/user/").content.decode()
    assert "Money permissions" in page and "without a second factor" in page
    filtered = admin_client.get("/admin/auth/user/?money_without_factor=1").content.decode()
    assert listed(filtered) == {"hr-0", "direct-0", "root-0"}
    rows = dict(
        re.findall(r'field-username"><a[^>]+>([^<]+)</a>.*?<td class="field-money">([^<]*)</td>', page, re.S)
    )
    assert (
        rows["enrolled-0"] == "yes" and rows["vendor-0"] == "—" and rows["hr-0"] == "without a second factor"
    )


def test_the_users_list_is_one_query_whatever_the_number_of_users(
    admin_client, django_user_model, staff_user
):
    def queries(url):
        admin_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    urls = ["/admin/auth/user/", "/admin/auth/user/?money_without_factor=1"]
    people(django_user_model, staff_user, n=1)
    few = [queries(url) for url in urls]
    people(django_user_model, staff_user, start=1, n=3)  # 6 users listed, then 24
    assert [queries(url) for url in urls] == few


# --- granting a money permission --------------------------------------------------------------


def messages_of(resp) -> list[str]:
    return [str(m) for m in resp.context["messages"]] if resp.context else []


def test_giving_a_role_that_moves_money_says_it_waits_for_enrolment(admin_client, staff_user):
    vendor = staff_user("Vendor operations", username="vendor")
    url = f"/admin/auth/user/{vendor.pk}/change/"
    approvals = Group.objects.get(name="HR payout approvals")
    data = user_form(admin_client, vendor, groups=[*vendor.groups.all(), approvals])
    resp = admin_client.post(url, data, follow=True)
    said = " ".join(messages_of(resp))
    assert vendor.groups.filter(pk=approvals.pk).exists()
    assert "A permission that moves money reaches vendor only once they have a second factor" in said
    assert "Issue an enrolment link" in said
    # Its page says so too, until they enrol.
    assert "only once they have a second factor" in admin_client.get(url).content.decode()
    give_totp(vendor)
    assert "only once they have a second factor" not in admin_client.get(url).content.decode()
    # Saved again with nothing newly granted: no warning.
    Authenticator.objects.filter(user=vendor).delete()
    resp = admin_client.post(url, data, follow=True)
    assert resp.redirect_chain and "only once they have a second factor" not in " ".join(messages_of(resp))


def test_the_warning_names_the_colleague_as_people_do_in_each_language(admin_client, staff_user):
    """Not "Hr_approver: …" (a username capitalised as a message's first letter): their name,
    the username beside it, inside the sentence."""
    approver = staff_user("HR payout approvals", username="hr_approver")
    approver.first_name, approver.last_name = "洋", "刘"
    approver.save()
    url = f"/admin/auth/user/{approver.pk}/change/"
    en = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    zh = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert f"reaches {approver.get_full_name()} (hr_approver) only once" in en
    assert f"{approver.get_full_name()} (hr_approver) 设置第二验证因素后" in zh
    assert "Hr_approver" not in en + zh


def user_form(admin_client, user, groups=(), **fields) -> dict:
    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    return {
        **dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)),
        "username": user.username,
        "is_active": "on",
        "is_staff": "on",
        "groups": [str(g.pk) for g in groups],
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "_save": "Save",
        **fields,
    }


def test_making_someone_a_superuser_says_it_waits_for_enrolment(admin_client, staff_user):
    vendor = staff_user("Vendor operations", username="vendor")
    url = f"/admin/auth/user/{vendor.pk}/change/"
    data = user_form(admin_client, vendor, groups=vendor.groups.all(), is_superuser="on")
    said = " ".join(messages_of(admin_client.post(url, data, follow=True)))
    assert vendor.__class__.objects.get(pk=vendor.pk).is_superuser
    assert "A permission that moves money reaches vendor only once" in said


def test_giving_a_group_a_money_permission_names_its_members_not_enrolled(admin_client, staff_user):
    group = Group.objects.create(name="Regional HR")
    waiting, ready = staff_user(username="waiting"), staff_user(username="ready")
    group.user_set.add(waiting, ready)
    give_totp(ready)
    withdraw = Permission.objects.get(codename="withdraw_referralaccount")
    view = Permission.objects.get(codename="view_referralaccount")
    url = f"/admin/auth/group/{group.pk}/change/"
    resp = admin_client.post(url, {"name": "Regional HR", "permissions": [view.pk]}, follow=True)
    assert "only once they have a second factor" not in " ".join(messages_of(resp))
    resp = admin_client.post(url, {"name": "Regional HR", "permissions": [view.pk, withdraw.pk]}, follow=True)
    said = " ".join(messages_of(resp))
    assert group.permissions.filter(pk=withdraw.pk).exists()
    assert "A permission that moves money reaches waiting only once" in said and "ready" not in said


def test_a_user_administrator_who_is_no_superuser_makes_nobody_one(staff_user, client, django_user_model):
    """Someone given the user pages (not a superuser) cannot raise an account, their own
    included, to superuser, hand out single permissions, or change a superuser's account."""
    admin = staff_user(perms=("auth.view_user", "auth.change_user"), username="user-admin")
    give_totp(admin)
    root = django_user_model.objects.create_superuser("root", password="Pw-123456!")
    client.force_login(admin)
    own = f"/admin/auth/user/{admin.pk}/change/"
    page = client.get(own).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    approve = Permission.objects.get(codename="approve_payoutrun")
    client.post(
        own,
        {
            "username": "user-admin",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": [approve.pk],
            "date_joined_0": "2026-11-25",
            "date_joined_1": "10:00:00",
        },
    )
    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.user_permissions.filter(pk=approve.pk).exists()
    assert client.get(f"/admin/auth/user/{root.pk}/change/").status_code == 200  # read, not changed
    assert 'name="_save"' not in client.get(f"/admin/auth/user/{root.pk}/change/").content.decode()
    assert (
        client.post(f"/admin/auth/user/{root.pk}/password/", {"password1": "x", "password2": "x"}).status_code
        == 403
    )
