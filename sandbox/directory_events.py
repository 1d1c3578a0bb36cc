"""Directory events (通讯录, contact v3): an employee joins, resigns or is removed, and the
sandbox pushes what Feishu would (docs/feishu.md §17), signed and encrypted to the webhook or
over the long connection like every other event (events.py).

The employee stays in the sandbox's directory, marked ``left`` ("resigned" or "deleted"): their
referral account behaves as before. CHOICE: Feishu's pages do not say what happens to a
referral account when its employee leaves, so it stays usable (balance, withdrawals,
deactivation) until the back-office deactivates it.
"""

LEAVE_HOWS = ("resign", "delete")


def user_object(emp: dict, *, resigned: bool = False, now: float = 0.0) -> dict:
    """``event.object`` as contact.user.*_v3 carries it (user_event; the SDK's UserEvent), with
    every field scope granted. CHOICE: mobile as "+<code><number>" (the page's sample shows
    digits only), as the sandbox renders a referrer's mobile."""
    mobile = emp.get("mobile")
    return {
        "open_id": emp["open_id"],
        "union_id": emp["union_id"],
        "user_id": emp["user_id"],
        "name": emp["name"].get("zh_cn") or emp["name"].get("en_us") or "",
        "en_name": emp["name"].get("en_us") or "",
        "email": emp.get("email") or "",
        "enterprise_email": emp.get("enterprise_email") or "",
        "mobile": f"+{mobile['code']}{mobile['number']}" if mobile else "",
        "employee_no": emp.get("employee_no") or "",
        "status": {
            "is_frozen": False,
            "is_resigned": resigned,
            "is_activated": not resigned,
            "is_exited": False,
            "is_unjoin": False,
        },
        "department_ids": [],
        "join_time": int(emp.get("join_time") or now),
    }


def find_employee(state, user_id: str, tenant_key: str | None) -> dict:
    with state.lock:
        for emp in state.employees:
            if emp["user_id"] == user_id and (tenant_key is None or emp["tenant_key"] == tenant_key):
                return emp
    raise LookupError(f"no employee {user_id!r}" + (f" in tenant {tenant_key!r}" if tenant_key else ""))


def joined(sb, emp: dict) -> dict:
    """contact.user.created_v3 for an employee just added."""
    now = sb.state.clock.time()
    return sb._event("contact.user.created_v3", {"object": user_object(emp, now=now)}, emp["tenant_key"])


def leave(sb, user_id: str, how: str, tenant_key: str | None = None) -> dict:
    """The employee leaves: ``resign`` pushes contact.user.updated_v3 (status to resigned, the
    old status in ``old_object``), ``delete`` pushes contact.user.deleted_v3 (``old_object``
    with what the page's sample shows: department_ids and open_id). Leaving twice is refused."""
    if how not in LEAVE_HOWS:
        raise ValueError(f"how must be one of {', '.join(LEAVE_HOWS)}")
    state = sb.state
    with state.lock:
        emp = find_employee(state, user_id, tenant_key)
        if emp.get("left") == "deleted" or (emp.get("left") and how == "resign"):
            raise ValueError(f"employee {user_id!r} already left ({emp['left']})")
        emp["left"] = "resigned" if how == "resign" else "deleted"
    sb.changed()
    now = state.clock.time()
    after = user_object(emp, resigned=True, now=now)
    if how == "resign":
        old = {
            "status": {**after["status"], "is_resigned": False, "is_activated": True},
            "open_id": emp["open_id"],
        }
        return sb._event("contact.user.updated_v3", {"object": after, "old_object": old}, emp["tenant_key"])
    old = {"department_ids": [], "open_id": emp["open_id"]}
    return sb._event("contact.user.deleted_v3", {"object": after, "old_object": old}, emp["tenant_key"])
