"""Why a delivery got no answer reads in each reader's language and says it once: the transport
stores a Message ("no answer (ConnectionError)", "no answer in time", "not sent: …"), where it
wrote English words, which the delivery's reason then wrapped in its own "no answer (…)" ("no
answer (no answer: ConnectionError)"). Rows written before are rewritten to the new Messages:
the attempts' plain words, and the deliveries' reasons that wrapped them (alone, or inside
"Not delivered after N attempts: …"). The words an address was refused with stay as they were
written (in the worker's language)."""

import json
import re
from typing import Any

from django.db import migrations
from django.db.models import TextField
from django.db.models.functions import Cast

import hireops.core.messages

NO_ANSWER = "no answer (%(error)s)"
WORDS = {
    "timed out": {"msgid": "no answer in time", "params": {}},
    "the task's time limit": {"msgid": "no answer within the task's time limit", "params": {}},
}
PREFIXED = (
    (re.compile(r"no answer: (?P<error>.+)", re.S), NO_ANSWER, "error"),
    (re.compile(r"refused: (?P<why>.+)", re.S), "not sent: %(why)s", "why"),
)


def as_message(words: str) -> dict[str, Any] | None:
    """The transport's English words of before, as the Message it stores now."""
    if words in WORDS:
        return WORDS[words]
    for pattern, msgid, name in PREFIXED:
        found = pattern.fullmatch(words)
        if found:
            return {"msgid": msgid, "params": {name: found.group(name)}}
    return None


def unwrapped(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with every "no answer (<the transport's words>)" in it replaced by them."""
    params = message.get("params") or {}
    if message.get("msgid") == NO_ANSWER and isinstance(params.get("error"), str):
        inner = as_message(params["error"])
        if inner is not None:
            return inner
    return {
        **message,
        "params": {k: unwrapped(v) if isinstance(v, dict) and "msgid" in v else v for k, v in params.items()},
    }


def rewrite(apps: Any, schema_editor: Any) -> None:
    DeliveryAttempt = apps.get_model("webhooks", "DeliveryAttempt")
    WebhookDelivery = apps.get_model("webhooks", "WebhookDelivery")
    # Cast: the words as stored, not as the field reads them (a Message, rendered).
    attempts = DeliveryAttempt.objects.exclude(error="").values_list("pk", Cast("error", TextField()))
    for pk, words in attempts.iterator():
        message = as_message(words)
        if message is not None:
            DeliveryAttempt.objects.filter(pk=pk).update(error=json.dumps(message, ensure_ascii=False))
    wrapped = WebhookDelivery.objects.filter(error__contains=json.dumps(NO_ANSWER)[1:-1])
    for pk, stored in wrapped.values_list("pk", Cast("error", TextField())).iterator():
        try:
            message = json.loads(stored)
        except ValueError:
            continue
        if isinstance(message, dict) and "msgid" in message:
            new = json.dumps(unwrapped(message), ensure_ascii=False)
            if new != stored:
                WebhookDelivery.objects.filter(pk=pk).update(error=new)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0004_event_feed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deliveryattempt",
            name="error",
            field=hireops.core.messages.MessageField(blank=True, max_length=500, verbose_name="error"),
        ),
        migrations.RunPython(rewrite, migrations.RunPython.noop),
    ]
