"""Registering referral accounts through the sandbox over HTTP."""

import pytest
from django.core.exceptions import ValidationError

from hireops.jobs.services import run_inline
from referrals import bulk
from referrals.accounts.services import AlreadyRegistered, account_register, person, registration_retry
from referrals.models import AccountStatus, ReferralAccount
from tests.admin_forms import save_as_shown

from .conftest import reload

pytestmark = pytest.mark.django_db(transaction=True)
CREATE = "/open-apis/hire/v1/referral_account"


def test_register_by_email_and_by_mobile(sandbox):
    sandbox.add_employee(name="李雷", email="lilei@example.com")
    sandbox.add_employee(name="韩梅梅", mobile={"code": "86", "number": "13900001111"})
    by_email = reload(account_register(person(name="李雷", email=" LiLei@Example.com ")))
    by_mobile = reload(account_register(person(name="韩梅梅", mobile_number="139-0000-1111")))
    for account in (by_email, by_mobile):
        assert account.status == AccountStatus.ACTIVE and account.account_id and account.error == ""
    assert by_email.email == "lilei@example.com"
    bodies = [r["json"] for r in sandbox.requests(CREATE)]
    assert bodies == [{"email": "lilei@example.com"}, {"mobile": {"code": "86", "number": "13900001111"}}]
    assert by_email.balance_history.get().source == "registration"


def test_no_such_employee_then_retry(sandbox):
    account = reload(account_register(person(email="nobody@example.com")))
    assert account.status == AccountStatus.FAILED and account.error_code == 1002551
    assert "No employee in Feishu has this mobile number or email" in account.error
    sandbox.add_employee(name="New Hire", email="nobody@example.com")  # HR fixed it in Feishu
    assert registration_retry(account)
    account = reload(account)
    assert account.status == AccountStatus.ACTIVE and account.attempts == 2


def test_not_unique_employee(sandbox):
    sandbox.add_employee(name="A", email="shared@example.com")
    sandbox.add_employee(name="B", email="shared@example.com")
    account = reload(account_register(person(email="shared@example.com")))
    assert account.status == AccountStatus.FAILED and account.error_code == 1002552
    assert "matches several employees" in account.error


def test_same_person_is_never_registered_twice(sandbox):
    sandbox.add_employee(name="C", email="c@example.com", mobile={"code": "86", "number": "13700000000"})
    first = account_register(person(email="c@example.com"))
    with pytest.raises(AlreadyRegistered):
        account_register(person(email="C@example.com"))
    second = reload(account_register(person(mobile_number="13700000000")))  # same employee, other key
    assert second.status == AccountStatus.FAILED and f"#{first.pk}" in second.error
    assert ReferralAccount.objects.exclude(account_id=None).count() == 1


def test_feishu_down_keeps_it_pending_then_fails_readably(sandbox):
    sandbox.add_employee(name="D", email="d@example.com")
    sandbox.add_fault(CREATE, "5xx", count=50, status=502)
    account = reload(account_register(person(email="d@example.com")))
    assert account.status == AccountStatus.FAILED and "could not be reached" in account.error
    sandbox.clear_faults()  # Feishu is back
    assert registration_retry(account) and reload(account).status == AccountStatus.ACTIVE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give a mobile number or an email"),
        ({"email": "not-an-email"}, "not a valid email"),
        ({"mobile_number": "12345"}, "11 digits"),
        ({"mobile_code": "1", "mobile_number": "12"}, "5 to 15 digits"),
        ({"mobile_code": "abc", "mobile_number": "13800138000"}, "A country code is 1 to 4 digits"),
        ({"mobile_code": "86 1", "mobile_number": "13800138000"}, "A country code is 1 to 4 digits"),
        ({"mobile_code": "12345", "mobile_number": "13800138000"}, "A country code is 1 to 4 digits"),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        person(**kwargs)


@pytest.mark.parametrize(("code", "stored"), [("", "86"), ("+44", "44"), (" 1 ", "1"), ("0086", "0086")])
def test_a_country_code_is_digits_with_or_without_a_plus(code, stored):
    assert person(mobile_code=code, mobile_number="13800138000").mobile_code == stored


def test_a_bad_country_code_is_a_field_error_on_the_form_and_in_an_import(admin_client):
    """``abc`` was silently stored as 86."""
    form = {"name": "K", "mobile_code": "abc", "mobile_number": "13800138000", "email": ""}
    resp = admin_client.post("/admin/referrals/referralaccount/add/", form)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors == {
        "mobile_code": ["A country code is 1 to 4 digits, e.g. 86."]
    }

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.csv", b"name,mobile_code,mobile\nK,abc,13800138000\n", "text/csv")
    page = admin_client.post("/admin/referrals/referralaccount/import/", {"file": upload})
    [outcome] = page.context["outcomes"]
    assert not outcome.ok and outcome.message == "A country code is 1 to 4 digits, e.g. 86."
    assert not ReferralAccount.objects.exists()


def test_csv_import_with_mixed_rows(sandbox):
    sandbox.add_employee(name="E1", email="e1@example.com")
    sandbox.add_employee(name="E2", mobile={"code": "86", "number": "13600000002"})
    account_register(person(email="dup@example.com"))
    csv = (
        "name,mobile,email\n"
        "E1,,e1@example.com\n"
        "E2,13600000002,\n"
        "Bad phone,123,\n"
        "Nobody,,\n"
        "Dup,,DUP@example.com\n"
        ",,\n"
        "Bad mail,,x@\n"
    ).encode("gb18030")
    rows = bulk.import_accounts.read(csv)
    results = run_inline(bulk.import_accounts, rows, {}, None)
    assert [(r["line"], o.ok) for r, o in zip(rows, results, strict=True)] == [
        (2, True),
        (3, True),
        (4, False),
        (5, False),
        (6, False),
        (8, False),
    ]
    assert "already has a referral account" in results[4].message
    assert "e1@example.com" not in " ".join(o.label for o in results)  # the report masks personal data
    assert ReferralAccount.objects.filter(status=AccountStatus.ACTIVE).count() == 2


def test_admin_add_and_import(sandbox, admin_client):
    sandbox.add_employee(name="F", email="f@example.com")
    resp = admin_client.post(
        "/admin/referrals/referralaccount/add/",
        {"name": "F", "mobile_code": "", "mobile_number": "", "email": "f@example.com"},
    )
    assert resp.status_code == 302
    assert ReferralAccount.objects.get(email="f@example.com").status == AccountStatus.ACTIVE
    resp = admin_client.post("/admin/referrals/referralaccount/add/", {"name": "G", "email": "bad@"})
    assert resp.status_code == 200 and "not a valid email" in resp.content.decode()

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("people.csv", b"email\nf@example.com\nnew@example.com\n", "text/csv")
    page = admin_client.post("/admin/referrals/referralaccount/import/", {"file": upload}).content.decode()
    assert "1 row queued for registration, 1 row refused." in page
    assert ReferralAccount.objects.filter(email="new@example.com").exists()


def test_registered_account_page_offers_no_save_or_delete(sandbox, admin_client):
    sandbox.add_employee(name="H", email="h@example.com")
    ok = reload(account_register(person(email="h@example.com")))
    failed = reload(account_register(person(email="typo@example.com")))
    page = admin_client.get(f"/admin/referrals/referralaccount/{ok.pk}/change/").content.decode()
    assert 'name="_save"' not in page and "/delete/" not in page
    assert save_as_shown(admin_client, f"/admin/referrals/referralaccount/{ok.pk}/change/").status_code == 403
    refused = admin_client.post(f"/admin/referrals/referralaccount/{ok.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    admin_client.post(f"/admin/referrals/referralaccount/{failed.pk}/delete/", {"post": "yes"})
    assert list(ReferralAccount.objects.values_list("pk", flat=True)) == [ok.pk]
