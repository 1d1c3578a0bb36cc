"""Publishing custom-field definitions to Feishu.

Feishu's create call replaces the whole list of a scope (feishu-api.md §2), so:
- the payload is built inside the task from committed rows, never from a form;
- the task holds the scope's ``FieldScope`` row lock for the call, so two publishes of
  one scope never overlap, and whichever runs last sends the newest committed list:
  a stale publish cannot overwrite a newer one;
- every publish is a ``FieldPublish`` row: who, when, what was sent, the answer, the log id.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.feishu import FeishuError, get_client, hire

from .models import CustomFieldDefinition, FieldPublish, FieldScope, PublishStatus, Scope

log = logging.getLogger(__name__)


class PublishRefused(Exception):
    pass


def scope_state(scope: int) -> FieldScope:
    return FieldScope.objects.get_or_create(scope=scope)[0]


def scope_touch(scope: int) -> None:
    """Record that a scope's definitions changed (call inside the editing transaction)."""
    scope_state(scope)
    FieldScope.objects.filter(scope=scope).update(revision=F("revision") + 1)


def active_fields(scope: int):
    return CustomFieldDefinition.objects.filter(scope=scope, is_active=True).order_by("display_order", "key")


def fields_publish_request(scope: int, user=None) -> FieldPublish:
    """Queue a publish of one scope; refuses a scope with no active field."""
    if scope not in Scope.values:
        raise PublishRefused(_("Unknown scope %(scope)s.") % {"scope": scope})
    if not active_fields(scope).exists():
        raise PublishRefused(
            _("%(scope)s has no active custom field: Feishu would show an empty form, so nothing was sent.")
            % {"scope": Scope(scope).label}
        )
    from .tasks import publish_fields

    with transaction.atomic():
        publish = FieldPublish.objects.create(scope=scope, requested_by=user)
        transaction.on_commit(lambda: publish_fields.delay(publish.pk))
    return publish


def _payload(fields) -> list[hire.CustomField]:
    return [
        hire.CustomField(
            key=f.key,
            name_zh=f.name_zh or f.name_en,
            name_en=f.name_en or f.name_zh,
            is_required=f.is_required,
            description_zh=f.description_zh,
            description_en=f.description_en,
        )
        for f in fields
    ]


def field_publish_run(publish_pk: int) -> str:
    with transaction.atomic():
        publish = FieldPublish.objects.select_for_update().get(pk=publish_pk)
        if publish.status != PublishStatus.QUEUED:
            return publish.status  # already ran (task delivered twice)
        scope_state(publish.scope)
        state = FieldScope.objects.select_for_update().get(scope=publish.scope)  # the per-scope lock
        fields = _payload(active_fields(publish.scope))
        publish.revision = state.revision
        publish.payload = {"scope": publish.scope, "custom_field_list": [f.to_json() for f in fields]}
        if not fields:
            gone = Message(gettext_noop("The scope has no active custom field any more."))
            _finish(publish, PublishStatus.FAILED, error=gone)
            return publish.status
        try:
            resp = hire.create_custom_fields(get_client(), publish.scope, fields)
        except FeishuError as exc:
            _finish(
                publish,
                PublishStatus.FAILED,
                error=str(exc),
                code=exc.code,
                log_id=exc.log_id,
                response={"code": exc.code, "msg": exc.msg, "http_status": exc.http_status},
            )
            log.warning("publish %s of scope %s failed: %s", publish.pk, publish.scope, exc)
            return publish.status
        _finish(
            publish,
            PublishStatus.SUCCEEDED,
            log_id=resp.log_id if resp else None,
            response={"code": 0, "msg": "ok", "data": resp.data if resp else {}},
        )
        if publish.revision > state.published_revision:
            state.published_revision = publish.revision
            state.save(update_fields=["published_revision"])
        return publish.status


def _finish(publish, status, *, error="", code=None, log_id=None, response=None):
    publish.status = status
    publish.error = error
    publish.error_code = code
    publish.log_id = log_id or ""
    publish.response = response
    publish.finished_at = timezone.now()
    publish.save()
