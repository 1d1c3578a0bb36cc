"""Who on the staff did what: Django admin ``LogEntry`` rows, one per object changed.

The admin logs its own forms (add, change, delete). Every other change is made by a service,
which takes the acting user (``user=``, ``by=``: a person in the admin, whoever asked for a
bulk job, an API key's actor) and calls ``record`` itself, in the change's transaction: so
whichever way a change is asked for, it leaves the same history, and a new admin action or API
operation cannot forget it. ``tests/test_audit_sites.py`` lists every call and holds each to a
services module (or names why not). What the system does by itself has its own history
(``BindingStatusChange``, ``BalanceChange``).

A message is stored as its English msgid and parameters, next to Django's own
``added``/``changed``/``deleted`` items, and translated when shown: each reader reads it in
their own language, whatever the writer's was.
"""

import json

from django.contrib.admin.models import CHANGE, LogEntry
from django.utils.text import capfirst
from django.utils.translation import gettext

from . import messages

KEY = "hireops"
# Parameters that hold what someone typed (a reason): free text, hidden whole from a reader who
# may not see personal data (``hireops.core.privacy.personal``).
TYPED = frozenset({"reason"})


def record(user, objects, message, params: dict | None = None, *, flag: int = CHANGE) -> None:
    """Log ``message`` (a ``gettext_noop`` msgid, or ``ngettext_lazy(singular, plural, "n")``
    for one that counts) on each object, as done by ``user``.

    ``params`` fill the message's placeholders: ids, names, reasons; never mobiles or emails.
    Without a user (a schedule, a command) there is nobody to record: nothing is written.
    """
    if user is None:  # before reading ``objects``: a query the system's calls need not run
        return
    objects = list(objects)
    if objects:
        singular, plural, number = messages.forms(message)
        item = {"message": singular, "params": params or {}}
        if plural:
            item.update(plural=plural, number=number)
        LogEntry.objects.log_actions(user.pk, objects, flag, [{KEY: item}])


def _ours(item: dict, typed: str | None) -> str:
    params = item.get("params") or {}
    if typed is not None:
        params = {k: typed if k in TYPED and v else v for k, v in params.items()}
    plural, number = str(item.get("plural", "")), str(item.get("number", ""))
    message = str(item.get("message", ""))
    if not plural and messages.is_upgraded(message):  # an entry written before its new words
        return str(messages.Message.from_json({"msgid": message, "params": params}))
    return messages.render(message, params, plural, number)


def _label(name: str) -> str:
    """A field label in one of Django's "changed" items, translated. Django stores form labels,
    which are capitalised verbose names, and looks them up as they are; our catalogue holds the
    verbose names (so "Display order" would stay English for a Chinese reader)."""
    translated = gettext(name)
    lower = name[:1].lower() + name[1:]
    if translated == name and gettext(lower) != lower:
        translated = capfirst(gettext(lower))
    return translated


def _djangos(item) -> str:
    if isinstance(item, dict) and isinstance(item.get("changed"), dict):
        changed = item["changed"]
        item = {"changed": {**changed, "fields": [_label(f) for f in changed.get("fields", [])]}}
    return LogEntry(change_message=json.dumps([item])).get_change_message()


def describe(entry: LogEntry, typed: str | None = None) -> str:
    """The entry's message in the current language: ours, and Django's own as Django words them;
    what was typed (``TYPED``), and a message that is only text (an older row's, a library's:
    anything may have been typed into it), reads as ``typed`` when given."""
    try:
        items = json.loads(entry.change_message) if entry.change_message.startswith("[") else None
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list):
        message = entry.get_change_message()
        return message if typed is None or not message else typed
    return " ".join(_one(item, typed) for item in items)


def _one(item, typed: str | None) -> str:
    return _ours(item[KEY], typed) if isinstance(item, dict) and KEY in item else _djangos(item)
