"""Directory events (docs/feishu.md §17): an employee joins or leaves in the sandbox and the
contact.user.*_v3 event is pushed like every other, signed and encrypted; the ctl client."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hireops.feishu import crypto
from sandbox.control import SandboxError

KEY, VTOKEN = "sandbox-encrypt-key", "sandbox-verification-token"


def decrypted(req) -> dict:
    h = req.headers
    assert crypto.verify_signature(
        h["X-Lark-Request-Timestamp"], h["X-Lark-Request-Nonce"], KEY, req.body, h["X-Lark-Signature"]
    )
    return json.loads(crypto.decrypt(json.loads(req.body)["encrypt"], KEY))


def by_type(requests) -> dict:
    """The pushed events decrypted, by their type (each type once here)."""
    return {event["header"]["event_type"]: event for event in map(decrypted, requests)}


def test_join_resign_and_delete_push_signed_encrypted_events(sandbox, webhook_receiver):
    # The SDK imported by the one test that reads its classes (11,000 modules: not at collection).
    from lark_oapi.api.contact.v3.model.p2_contact_user_created_v3 import P2ContactUserCreatedV3
    from lark_oapi.api.contact.v3.model.p2_contact_user_deleted_v3 import P2ContactUserDeletedV3
    from lark_oapi.api.contact.v3.model.p2_contact_user_updated_v3 import P2ContactUserUpdatedV3
    from lark_oapi.core.json import JSON

    sandbox.configure(webhook_url=webhook_receiver.url, encrypt_key=KEY, verification_token=VTOKEN)
    emp = sandbox.add_employee(name="离职者", email="Leaver@Example.com", mobile="13800138009")
    sandbox.employee_leave(emp["user_id"], how="resign")
    # Feishu does not promise the order of its pushes, nor does the sandbox's pusher.
    pushed = by_type(webhook_receiver.wait_for(2))
    assert set(pushed) == {"contact.user.created_v3", "contact.user.updated_v3"}
    created, updated = pushed["contact.user.created_v3"], pushed["contact.user.updated_v3"]
    assert updated["header"]["token"] == VTOKEN and updated["header"]["tenant_key"] == emp["tenant_key"]
    user = updated["event"]["object"]
    assert (user["open_id"], user["union_id"], user["user_id"], user["name"]) == (
        emp["open_id"],
        emp["union_id"],
        emp["user_id"],
        "离职者",
    )
    assert (user["email"], user["mobile"]) == ("Leaver@Example.com", "+8613800138009")
    assert user["status"]["is_resigned"] is True
    assert updated["event"]["old_object"]["status"]["is_resigned"] is False
    # What the SDK reads (docs/feishu.md §6.4): the same fields.
    sdk = JSON.unmarshal(json.dumps(updated), P2ContactUserUpdatedV3)
    assert sdk.event.object.status.is_resigned and not sdk.event.old_object.status.is_resigned
    assert JSON.unmarshal(json.dumps(created), P2ContactUserCreatedV3).event.object.user_id == emp["user_id"]

    other = sandbox.add_employee(name="删除", email="deleted@example.com")
    event = sandbox.employee_leave(other["user_id"], how="delete")
    assert event["header"]["event_type"] == "contact.user.deleted_v3"
    deleted = by_type(webhook_receiver.wait_for(4)[2:])["contact.user.deleted_v3"]
    assert deleted == event
    sdk = JSON.unmarshal(json.dumps(deleted), P2ContactUserDeletedV3)
    assert sdk.event.object.open_id == other["open_id"] and sdk.event.old_object.open_id == other["open_id"]


def test_leaving_is_checked_and_the_account_stays_usable(sandbox):
    emp = sandbox.add_employee(name="两次", email="twice@example.com")
    with pytest.raises(SandboxError, match=r"HTTP 400.*how must be"):
        sandbox.employee_leave(emp["user_id"], how="vanish")
    with pytest.raises(SandboxError, match="HTTP 404"):
        sandbox.employee_leave("nobody")
    sandbox.employee_leave(emp["user_id"], how="resign")
    with pytest.raises(SandboxError, match="already left"):
        sandbox.employee_leave(emp["user_id"], how="resign")
    sandbox.employee_leave(emp["user_id"], how="delete")  # resigned, then removed
    left = next(e for e in sandbox.state()["employees"] if e["user_id"] == emp["user_id"])
    assert left["left"] == "deleted"


def test_ctl_leave(sandbox):
    emp = sandbox.add_employee(name="命令行", email="ctl@example.com")
    out = StringIO()
    call_command(
        "feishu_sandbox_ctl", "--url", sandbox.url, "leave", emp["user_id"], "--how", "delete", stdout=out
    )
    assert json.loads(out.getvalue())["header"]["event_type"] == "contact.user.deleted_v3"
    with pytest.raises(CommandError, match="already left"):
        call_command("feishu_sandbox_ctl", "--url", sandbox.url, "leave", emp["user_id"], stdout=StringIO())
