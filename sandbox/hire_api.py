"""Hire: eco account custom fields (docs/feishu.md §2), plus the shared answer helpers.

Fields are kept per (tenant, scope). create is a full replace of that scope
(other scope untouched: the doc's reading, UNCONFIRMED); batch_update renames
existing keys only; batch_delete never empties a scope and a deleted key is
never accepted again. Validation failures answer 400 / 1002002 naming the field.
"""

from .errors import ApiError

PARAM_ERROR = 1002002


def ok(data: dict | None = None) -> tuple[int, dict]:
    return 200, {"code": 0, "msg": "ok", "data": data if data is not None else {}}


def bad(msg: str) -> ApiError:
    return ApiError(PARAM_ERROR, f"param error: {msg}")


def _scope(body: dict) -> int:
    scope = body.get("scope")
    if isinstance(scope, bool) or scope not in (1, 2):
        raise bad("scope is required and must be 1 (background check) or 2 (exam)")
    return scope


def _i18n(value, where: str, required: bool) -> dict | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise bad(f"{where} is required and must be an i18n object with zh_cn and/or en_us")
    out = {k: value[k] for k in ("zh_cn", "en_us") if value.get(k) is not None}
    if any(not isinstance(v, str) for v in out.values()):
        raise bad(f"{where}.zh_cn / {where}.en_us must be strings")
    if required and not any(v.strip() for v in out.values()):
        raise bad(f"{where} needs a non-empty zh_cn or en_us")
    return out


def _field_list(body: dict) -> list[dict]:
    items = body.get("custom_field_list")
    if not isinstance(items, list) or not items:
        raise bad("custom_field_list is required and must be a non-empty list")
    seen, fields = set(), []
    for i, item in enumerate(items):
        where = f"custom_field_list[{i}]"
        if not isinstance(item, dict):
            raise bad(f"{where} must be an object")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            raise bad(f"{where}.key is required")
        if key in seen:
            raise bad(f"{where}.key {key!r} appears twice; keys must be unique within the scope")
        seen.add(key)
        name = _i18n(item.get("name"), f"{where}.name", required=True)
        if not isinstance(item.get("is_required"), bool):
            raise bad(f"{where}.is_required is required and must be a boolean")
        field = {"key": key, "name": name, "is_required": item["is_required"]}
        desc = _i18n(item.get("description"), f"{where}.description", required=False)
        if desc is not None:
            field["description"] = desc
        fields.append(field)
    return fields


def fields_create(sb, call):
    scope, fields = _scope(call.body), _field_list(call.body)
    st, slot = sb.state, (call.tenant_key, scope)
    with st.lock:
        reused = [f["key"] for f in fields if f["key"] in st.deleted_keys.get(slot, ())]
        if reused:
            raise bad(f"custom field key {reused[0]!r} was deleted and cannot be reused")
        st.fields[slot] = {f["key"]: f for f in fields}
    return ok()


def fields_batch_update(sb, call):
    # Same body shape as create (so the same validation); only name/description change.
    scope, fields = _scope(call.body), _field_list(call.body)
    st, slot = sb.state, (call.tenant_key, scope)
    with st.lock:
        current = st.fields.get(slot, {})
        missing = [f["key"] for f in fields if f["key"] not in current]
        if missing:
            raise bad(f"custom field key {missing[0]!r} does not exist in scope {scope}")
        for f in fields:
            current[f["key"]]["name"] = f["name"]
            if "description" in f:
                current[f["key"]]["description"] = f["description"]
    return ok()


def fields_batch_delete(sb, call):
    scope = _scope(call.body)
    keys = call.body.get("custom_field_key_list")
    # CHOICE: the list is optional in the doc; an absent or empty list deletes nothing and is refused.
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise bad("custom_field_key_list must be a non-empty list of keys")
    st, slot = sb.state, (call.tenant_key, scope)
    with st.lock:
        current = st.fields.get(slot, {})
        deleted = st.deleted_keys.setdefault(slot, set())
        # CHOICE: deleting an already deleted key is a no-op (safe retries);
        # a key that never existed is an error.
        unknown = [k for k in keys if k not in current and k not in deleted]
        if unknown:
            raise bad(f"custom field key {unknown[0]!r} does not exist in scope {scope}")
        live = [k for k in keys if k in current]
        if live and not set(current) - set(live):
            raise bad("cannot delete every custom field: at least one must remain")
        for k in live:
            del current[k]
            deleted.add(k)
    return ok()


_P = "/open-apis/hire/v1/eco_account_custom_fields"
_HIRE = {"kind": "openapi", "auth": True}
ROUTES = [
    ("POST", _P, fields_create, {**_HIRE, "api": "eco_account_custom_field.create"}),
    (
        "PATCH",
        _P + "/batch_update",
        fields_batch_update,
        {**_HIRE, "api": "eco_account_custom_field.batch_update"},
    ),
    (
        "POST",
        _P + "/batch_delete",
        fields_batch_delete,
        {**_HIRE, "api": "eco_account_custom_field.batch_delete"},
    ),
]
