"""Hire's eco catalogues in the sandbox: what each eco account offers its customer's recruiters
(docs/feishu.md §8.2, §8.3, §9.1), kept per (tenant, account) in ``state.catalogues``.

- Packages and additional items are incremental: create adds ids (an id already there is
  refused), batch_update changes existing ids only, batch_delete removes ids. Errors as the
  pages list them: 400 / 1002001 for create and batch_update, 400 / 1002859 for delete.
- Order-form custom fields: create replaces the whole list (a retired key is refused, 400 /
  1002855); batch_update changes names and hints only and needs the same keys, types and
  length (400 / 1002001); batch_delete removes them all and retires their keys (400 / 1002860
  on a bad body).
- Exam papers: create replaces the list, batch_update overwrites listed existing papers
  whole, batch_delete removes ids (an unknown id is not an error). Every paper error answers
  500 / 1002001, as the pages say (so a client retries them: faithful, if unhelpful).

CHOICES where the pages are silent (UNCONFIRMED): an unknown account is the endpoint's
parameter error; ``package_list`` may be empty when items alone are added or changed;
deleting an unknown package or item id is refused (1002859); a deleted package id may be
created again.

The control API's orders use these catalogues: an order for a package, item or paper the
account does not offer is refused (a Hire recruiter could not pick it).
"""

from .errors import ApiError
from .hire_api import ok

PACKAGE_PARAM = 1002001
PACKAGE_DELETE_PARAM = 1002859
FIELD_CREATE_PARAM = 1002855
FIELD_UPDATE_PARAM = 1002001
FIELD_DELETE_PARAM = 1002860
PAPER_ERROR = 1002001
FIELD_TYPES = ("text", "textarea", "number", "boolean", "select", "multiselect", "date", "file", "resume")
LIST_LIMIT = 500  # CHOICE: a bound on one call's list, so a loop cannot grow the state forever


def catalogue(st, tenant_key: str, account_id: str, scope: int, code: int, status: int = 400) -> dict:
    account = st.eco_account(tenant_key, account_id)
    if account is None:
        raise ApiError(code, f"param error: eco account {account_id!r} does not exist", status)
    if account["scope"] != scope:
        raise ApiError(code, f"param error: account {account_id!r} is not of this scope", status)
    return st.catalogues.setdefault(
        (tenant_key, account_id),
        {"packages": {}, "items": {}, "fields": [], "retired_keys": set(), "papers": []},
    )


def _account_id(body: dict, code: int, status: int = 400) -> str:
    value = body.get("account_id")
    if not isinstance(value, str) or not value:
        raise ApiError(code, "param error: account_id is required", status)
    return value


def _entries(body: dict, key: str, required: bool, code: int) -> dict:
    items = body.get(key)
    if items is None and not required:
        return {}
    if not isinstance(items, list) or len(items) > LIST_LIMIT:
        raise ApiError(code, f"param error: {key} is required and must be a list")
    out = {}
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise ApiError(code, f"param error: {where} must be an object")
        entry_id, name = item.get("id"), item.get("name")
        if not isinstance(entry_id, str) or not entry_id or len(entry_id) > 36:
            raise ApiError(code, f"param error: {where}.id is required, at most 36 characters")
        if not isinstance(name, str) or not name.strip() or (key == "package_list" and len(name) > 100):
            raise ApiError(code, f"param error: {where}.name is required (packages: at most 100 characters)")
        if entry_id in out:
            raise ApiError(code, f"param error: {where}.id {entry_id!r} appears twice")
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise ApiError(code, f"param error: {where}.description must be a string")
        out[entry_id] = {"name": name, **({"description": description} if description else {})}
    return out


def _package_write(sb, call, must_exist: bool):
    """create (ids must be new) or batch_update (ids must exist): the same body, the same effect."""
    b = call.body
    packages = _entries(b, "package_list", True, PACKAGE_PARAM)
    items = _entries(b, "additional_item_list", False, PACKAGE_PARAM)
    with sb.state.lock:
        cat = catalogue(sb.state, call.tenant_key, _account_id(b, PACKAGE_PARAM), 1, PACKAGE_PARAM)
        wrong = [
            code
            for kind, entries in (("packages", packages), ("items", items))
            for code in entries
            if (code in cat[kind]) != must_exist
        ]
        if wrong:
            why = "does not exist" if must_exist else "exists already; use batch_update"
            raise ApiError(PACKAGE_PARAM, f"param error: id {wrong[0]!r} {why}")
        cat["packages"].update(packages)
        cat["items"].update(items)
    return ok()


def packages_create(sb, call):
    return _package_write(sb, call, must_exist=False)


def packages_update(sb, call):
    return _package_write(sb, call, must_exist=True)


def _ids(body: dict, key: str, code: int, status: int = 400) -> list[str]:
    ids = body.get(key)
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids) or len(ids) > LIST_LIMIT:
        raise ApiError(code, f"param error: {key} must be a list of ids", status)
    return ids


def packages_delete(sb, call):
    b = call.body
    packages = _ids(b, "package_id_list", PACKAGE_DELETE_PARAM)
    items = _ids(b, "additional_item_id_list", PACKAGE_DELETE_PARAM)
    with sb.state.lock:
        cat = catalogue(
            sb.state, call.tenant_key, _account_id(b, PACKAGE_DELETE_PARAM), 1, PACKAGE_DELETE_PARAM
        )
        unknown = [k for k in packages if k not in cat["packages"]] + [
            k for k in items if k not in cat["items"]
        ]
        if unknown:
            raise ApiError(PACKAGE_DELETE_PARAM, f"param error: id {unknown[0]!r} does not exist")
        for k in packages:
            del cat["packages"][k]
        for k in items:
            del cat["items"][k]
    return ok()


def _i18n(value, where: str, required: bool, code: int) -> dict | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict) or any(not isinstance(value.get(k, ""), str) for k in ("zh_cn", "en_us")):
        raise ApiError(code, f"param error: {where} must be an i18n object with zh_cn and/or en_us")
    out = {k: value[k] for k in ("zh_cn", "en_us") if value.get(k)}
    if required and not out:
        raise ApiError(code, f"param error: {where} needs zh_cn or en_us")
    return out


def _form_fields(body: dict, code: int) -> list[dict]:
    items = body.get("custom_field_list")
    if not isinstance(items, list) or not items or len(items) > LIST_LIMIT:
        raise ApiError(code, "param error: custom_field_list is required and must be a non-empty list")
    keys, out = set(), []
    for i, item in enumerate(items):
        where = f"custom_field_list[{i}]"
        if not isinstance(item, dict):
            raise ApiError(code, f"param error: {where} must be an object")
        if item.get("type") not in FIELD_TYPES:
            raise ApiError(code, f"param error: {where}.type must be one of {', '.join(FIELD_TYPES)}")
        key = item.get("key")
        if not isinstance(key, str) or not key or key in keys:
            raise ApiError(code, f"param error: {where}.key is required and unique")
        keys.add(key)
        if not isinstance(item.get("is_required"), bool):
            raise ApiError(code, f"param error: {where}.is_required is required and must be a boolean")
        field = {
            "type": item["type"],
            "key": key,
            "name": _i18n(item.get("name"), f"{where}.name", True, code),
            "is_required": item["is_required"],
        }
        description = _i18n(item.get("description"), f"{where}.description", False, code)
        if description:
            field["description"] = description
        options = item.get("options")
        if item["type"] in ("select", "multiselect"):
            if not isinstance(options, list) or not options:
                raise ApiError(code, f"param error: {where}.options is required for {item['type']}")
            option_keys, field["options"] = set(), []
            for j, option in enumerate(options):
                ok_key = isinstance(option, dict) and isinstance(option.get("key"), str) and option["key"]
                if not ok_key or option["key"] in option_keys:
                    raise ApiError(code, f"param error: {where}.options[{j}].key is required and unique")
                option_keys.add(option["key"])
                name = _i18n(option.get("name"), f"{where}.options[{j}].name", True, code)
                field["options"].append({"key": option["key"], "name": name})
        out.append(field)
    return out


def fields_create(sb, call):
    b = call.body
    fields = _form_fields(b, FIELD_CREATE_PARAM)
    with sb.state.lock:
        cat = catalogue(sb.state, call.tenant_key, _account_id(b, FIELD_CREATE_PARAM), 1, FIELD_CREATE_PARAM)
        retired = [f["key"] for f in fields if f["key"] in cat["retired_keys"]]
        if retired:
            raise ApiError(
                FIELD_CREATE_PARAM, f"param error: key {retired[0]!r} was deleted and cannot be reused"
            )
        cat["fields"] = fields
    return ok()


def _shape(fields: list[dict]) -> list[tuple]:
    return [(f["key"], f["type"], tuple(o["key"] for o in f.get("options", ()))) for f in fields]


def fields_update(sb, call):
    b = call.body
    fields = _form_fields(b, FIELD_UPDATE_PARAM)
    with sb.state.lock:
        cat = catalogue(sb.state, call.tenant_key, _account_id(b, FIELD_UPDATE_PARAM), 1, FIELD_UPDATE_PARAM)
        if len(fields) != len(cat["fields"]):
            raise ApiError(
                FIELD_UPDATE_PARAM, "param error: custom_field_list must keep the length it was created with"
            )
        if _shape(fields) != _shape(cat["fields"]):
            raise ApiError(FIELD_UPDATE_PARAM, "param error: only names and descriptions may change")
        for have, new in zip(cat["fields"], fields, strict=True):
            have["name"] = new["name"]
            have.pop("description", None)
            if "description" in new:
                have["description"] = new["description"]
            for have_option, new_option in zip(have.get("options", ()), new.get("options", ()), strict=True):
                have_option["name"] = new_option["name"]
    return ok()


def fields_delete(sb, call):
    b = call.body
    with sb.state.lock:
        cat = catalogue(sb.state, call.tenant_key, _account_id(b, FIELD_DELETE_PARAM), 1, FIELD_DELETE_PARAM)
        cat["retired_keys"].update(f["key"] for f in cat["fields"])
        cat["fields"] = []
    return ok()


def _ms(paper: dict, key: str, where: str):
    value = paper.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.isdigit():
        raise ApiError(
            PAPER_ERROR, f"system error: {where}.{key} must be a millisecond timestamp string", 500
        )
    return value


def _papers(body: dict) -> list[dict]:
    items = body.get("paper_list")
    if not isinstance(items, list) or not items or len(items) > LIST_LIMIT:
        raise ApiError(PAPER_ERROR, "system error: paper_list is required", 500)
    out, ids = [], set()
    for i, item in enumerate(items):
        where = f"paper_list[{i}]"
        if not isinstance(item, dict):
            raise ApiError(PAPER_ERROR, f"system error: {where} must be an object", 500)
        paper_id, name = item.get("id"), item.get("name")
        if not isinstance(paper_id, str) or not paper_id or not isinstance(name, str) or not name:
            raise ApiError(PAPER_ERROR, f"system error: {where}.id and name are required", 500)
        paper = {"id": paper_id[:255], "name": name[:255]}  # Feishu truncates, it does not refuse
        if paper["id"] in ids:
            raise ApiError(PAPER_ERROR, f"system error: {where}.id appears twice", 500)
        ids.add(paper["id"])
        for key in ("duration", "question_count"):
            if item.get(key) is not None:
                if isinstance(item[key], bool) or not isinstance(item[key], int) or item[key] < 0:
                    raise ApiError(PAPER_ERROR, f"system error: {where}.{key} must be a whole number", 500)
                paper[key] = item[key]
        start, end = _ms(item, "start_time", where), _ms(item, "end_time", where)
        if start and end and int(start) >= int(end):
            raise ApiError(PAPER_ERROR, f"system error: {where}.start_time must be before end_time", 500)
        paper.update({k: v for k, v in (("start_time", start), ("end_time", end)) if v})
        out.append(paper)
    return out


def _paper_catalogue(sb, call) -> dict:
    account_id = _account_id(call.body, PAPER_ERROR, 500)
    return catalogue(sb.state, call.tenant_key, account_id, 2, PAPER_ERROR, 500)


def papers_create(sb, call):
    papers = _papers(call.body)
    with sb.state.lock:
        _paper_catalogue(sb, call)["papers"] = papers
    return ok()


def papers_update(sb, call):
    papers = _papers(call.body)
    with sb.state.lock:
        cat = _paper_catalogue(sb, call)
        have = {p["id"]: i for i, p in enumerate(cat["papers"])}
        unknown = [p["id"] for p in papers if p["id"] not in have]
        if unknown:
            raise ApiError(PAPER_ERROR, f"system error: paper {unknown[0]!r} was never created", 500)
        for paper in papers:  # overwritten whole: a field left out is cleared
            cat["papers"][have[paper["id"]]] = paper
    return ok()


def papers_delete(sb, call):
    ids = _ids(call.body, "paper_id_list", PAPER_ERROR, 500)
    if not ids:
        raise ApiError(PAPER_ERROR, "system error: paper_id_list is required", 500)
    with sb.state.lock:
        cat = _paper_catalogue(sb, call)
        cat["papers"] = [p for p in cat["papers"] if p["id"] not in ids]  # unknown ids: no error
    return ok()


# --- what the control API's orders may pick --------------------------------------------------


def offered(st, tenant_key: str, account_id: str) -> dict:
    return st.catalogues.get(
        (tenant_key, account_id), {"packages": {}, "items": {}, "fields": [], "papers": []}
    )


def pick_package(st, tenant_key: str, account_id: str, package_id: str | None, item_ids: list[str]) -> str:
    cat = offered(st, tenant_key, account_id)
    if not cat["packages"]:
        raise ValueError(f"account {account_id!r} offers no package: push the catalogue first")
    package_id = package_id or next(iter(cat["packages"]))
    if package_id not in cat["packages"]:
        raise ValueError(f"account {account_id!r} offers no package {package_id!r}")
    unknown = [i for i in item_ids if i not in cat["items"]]
    if unknown:
        raise ValueError(f"account {account_id!r} offers no additional item {unknown[0]!r}")
    return package_id


def pick_paper(st, tenant_key: str, account_id: str, paper_id: str | None) -> str:
    papers = [p["id"] for p in offered(st, tenant_key, account_id)["papers"]]
    if not papers:
        raise ValueError(f"account {account_id!r} offers no exam paper: push the catalogue first")
    paper_id = paper_id or papers[0]
    if paper_id not in papers:
        raise ValueError(f"account {account_id!r} offers no exam paper {paper_id!r}")
    return paper_id


def snapshot(st) -> list[dict]:
    return [
        {
            "tenant_key": tenant_key,
            "account_id": account_id,
            "packages": dict(cat["packages"]),
            "items": dict(cat["items"]),
            "fields": list(cat["fields"]),
            "retired_keys": sorted(cat["retired_keys"]),
            "papers": list(cat["papers"]),
        }
        for (tenant_key, account_id), cat in sorted(st.catalogues.items())
    ]


def seed(st, tenant_key: str, account_id: str, scope: int, **lists) -> dict:
    """The control API's shortcut (tests, demos): put a catalogue in place as if pushed."""
    with st.lock:
        code = PACKAGE_PARAM if scope == 1 else PAPER_ERROR
        cat = catalogue(st, tenant_key, account_id, scope, code)
        for key in ("packages", "items"):
            cat[key].update({str(k): v for k, v in (lists.get(key) or {}).items()})
        if lists.get("papers"):
            cat["papers"] = list(lists["papers"])
        return cat


_PK = "/open-apis/hire/v1/eco_background_check_packages"
_CF = "/open-apis/hire/v1/eco_background_check_custom_fields"
_PP = "/open-apis/hire/v1/eco_exam_papers"
_HIRE = {"kind": "openapi", "auth": True}


def _route(method, path, handler, api):
    return (method, path, handler, {**_HIRE, "api": api})


ROUTES = [
    _route("POST", _PK, packages_create, "eco_background_check_package.create"),
    _route("PATCH", _PK + "/batch_update", packages_update, "eco_background_check_package.batch_update"),
    _route("POST", _PK + "/batch_delete", packages_delete, "eco_background_check_package.batch_delete"),
    _route("POST", _CF, fields_create, "eco_background_check_custom_field.create"),
    _route("PATCH", _CF + "/batch_update", fields_update, "eco_background_check_custom_field.batch_update"),
    _route("POST", _CF + "/batch_delete", fields_delete, "eco_background_check_custom_field.batch_delete"),
    _route("POST", _PP, papers_create, "eco_exam_paper.create"),
    _route("PATCH", _PP + "/batch_update", papers_update, "eco_exam_paper.batch_update"),
    _route("POST", _PP + "/batch_delete", papers_delete, "eco_exam_paper.batch_delete"),
]
