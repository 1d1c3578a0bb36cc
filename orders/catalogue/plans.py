"""The calls that take one account's Feishu from what it has to what it should have.

Pure functions over the shapes of ``desired``. Each planned call carries the state Feishu has
once it succeeds (``after``), so a push that stops half-way records exactly what got through
and the next push plans only the rest.

- **Packages and additional items** (incremental): create the new ids, batch_update the
  changed ones, batch_delete the ones no longer offered, in that order. Feishu's ``create``
  and ``batch_update`` require ``package_list``: a call that adds or changes items only sends
  an empty one (UNCONFIRMED whether Feishu accepts that; the sandbox does).
- **Form fields** (create is a full replace): an empty list is ``batch_delete`` (account-wide,
  and the keys are retired for good); names and hints alone changing is ``batch_update`` (the
  same length, and orders already placed show the new names); anything else is ``create``.
  A retired key is refused before anything is sent.
- **Papers** (create is a full replace): none left is ``batch_delete`` of what Feishu has; the
  same ids is ``batch_update`` of the changed papers (each overwritten whole); anything else is
  ``create`` with the whole list.
"""

from dataclasses import dataclass, field

from .models import Catalogue


@dataclass(frozen=True)
class Call:
    op: str  # create | batch_update | batch_delete
    body: dict  # without account_id
    after: dict  # what Feishu has once this call succeeds
    retires: tuple[str, ...] = field(default=())  # form-field keys it deletes for good


class PlanRefused(ValueError):
    pass


def plan(catalogue: str, sent: dict, wanted: dict, retired=()) -> list[Call]:
    if catalogue == Catalogue.PACKAGES:
        return _packages(sent, wanted)
    if catalogue == Catalogue.FORM_FIELDS:
        return _form_fields(sent, wanted, set(retired))
    return _papers(sent, wanted)


def _listed(entries: dict) -> list[dict]:
    return [{"id": code, **entry} for code, entry in entries.items()]


def _package_body(packages: dict, items: dict) -> dict:
    body = {"package_list": _listed(packages)}
    if items:
        body["additional_item_list"] = _listed(items)
    return body


def _packages(sent: dict, wanted: dict) -> list[Call]:
    have = {"packages": dict(sent.get("packages", {})), "items": dict(sent.get("items", {}))}
    calls = []
    new = {k: {c: e for c, e in wanted[k].items() if c not in have[k]} for k in have}
    if any(new.values()):
        have = {k: {**have[k], **new[k]} for k in have}
        calls.append(Call("create", _package_body(new["packages"], new["items"]), _copy(have)))
    changed = {k: {c: e for c, e in wanted[k].items() if have[k].get(c) != e} for k in have}
    if any(changed.values()):
        have = {k: {**have[k], **changed[k]} for k in have}
        calls.append(Call("batch_update", _package_body(changed["packages"], changed["items"]), _copy(have)))
    gone = {k: [c for c in have[k] if c not in wanted[k]] for k in have}
    if any(gone.values()):
        have = {k: {c: e for c, e in have[k].items() if c not in gone[k]} for k in have}
        body = {}
        if gone["packages"]:
            body["package_id_list"] = gone["packages"]
        if gone["items"]:
            body["additional_item_id_list"] = gone["items"]
        calls.append(Call("batch_delete", body, _copy(have)))
    return calls


def _copy(have: dict) -> dict:
    return {k: dict(v) for k, v in have.items()}


def _shape(fields: list[dict]) -> list[tuple]:
    """What batch_update may not change: keys, order, types, required, option keys."""
    return [
        (f["key"], f["type"], f["is_required"], tuple(o["key"] for o in f.get("options", ()))) for f in fields
    ]


def _form_fields(sent: dict, wanted: dict, retired: set) -> list[Call]:
    have, want = sent.get("fields", []), wanted["fields"]
    if have == want:
        return []
    reused = [f["key"] for f in want if f["key"] in retired]
    if reused:
        raise PlanRefused(", ".join(reused))
    if not want:
        return [Call("batch_delete", {}, {"fields": []}, tuple(f["key"] for f in have))]
    op = "batch_update" if have and _shape(have) == _shape(want) else "create"
    return [Call(op, {"custom_field_list": want}, {"fields": want})]


def _papers(sent: dict, wanted: dict) -> list[Call]:
    have, want = sent.get("papers", []), wanted["papers"]
    if have == want:
        return []
    if not want:
        return [Call("batch_delete", {"paper_id_list": [p["id"] for p in have]}, {"papers": []})]
    had = {p["id"]: p for p in have}
    changed = [p for p in want if had.get(p["id"]) != p]
    if set(had) == {p["id"] for p in want} and changed:  # the same papers, some of them changed
        return [Call("batch_update", {"paper_list": changed}, {"papers": want})]
    return [Call("create", {"paper_list": want}, {"papers": want})]  # others, or only their order


def probe(uncertain: dict) -> Call:
    """A call whose earlier attempt may or may not have reached Feishu touched these package
    and item ids: a batch_update of them with that attempt's content succeeds if they exist
    (and sets that content), and is refused if they don't. Feishu applies a call whole or not
    at all (UNCONFIRMED; the reading every other API's behaviour supports)."""
    return Call("batch_update", _package_body(uncertain.get("packages", {}), uncertain.get("items", {})), {})


def after_probe(sent: dict, uncertain: dict, exists: bool) -> dict:
    have = {"packages": dict(sent.get("packages", {})), "items": dict(sent.get("items", {}))}
    for kind in have:
        for code, entry in uncertain.get(kind, {}).items():
            if exists:
                have[kind][code] = entry
            else:
                have[kind].pop(code, None)
    return have
