"""Candidates' personal data is removed a set time after their order ended
(``ORDER_PURGE_AFTER_DAYS``, 180 by default): names, mobiles, emails, the customer contact,
the order form's values and comment, an exam's login, the report files (and their names,
which often carry the candidate's), and the bodies recorded of what was sent about it.

What stays is what invoicing and the history need: Feishu's ids, account, customer, package or
paper, state, dates, the result and score. Each order records when it was purged
(``purged_at``, a list filter), so the purge is visible and never repeated. The schedule runs
it daily, in batches of ``BATCH`` orders per transaction (rows being purged by another run are
skipped), and a file is deleted only once the rows that named it are gone.

The events Feishu sent carry the same data in their payloads; they are pruned long before
(``FEISHU_EVENT_RETENTION_DAYS``), which must stay below this setting.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import BackgroundCheck, Exam, OrderWrite, ReportFile

log = logging.getLogger(__name__)

BATCH = 1000
LIMIT = 100_000  # per run: the next day's run goes on

PERSON = {"candidate_name": "", "candidate_mobile_code": "", "candidate_mobile": "", "candidate_email": ""}
BLANKS: dict[type, dict[str, Any]] = {
    BackgroundCheck: {
        **PERSON,
        "candidate_first_name": "",
        "candidate_last_name": "",
        "contact_name": "",
        "contact_mobile_code": "",
        "contact_mobile": "",
        "contact_email": "",
        "custom_field_values": [],
        "comment": "",
        "cancel_reason": "",
    },
    Exam: {**PERSON, "exam_url": "", "exam_username": "", "exam_password": ""},
}
ORDER_FIELD = {BackgroundCheck: "background_check", Exam: "exam"}


def purge_due(now=None, limit: int = LIMIT) -> int:
    """Purge the orders that ended long enough ago; how many were purged."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ORDER_PURGE_AFTER_DAYS)
    purged = 0
    for model in (BackgroundCheck, Exam):
        while purged < limit:
            done = _batch(model, cutoff, now)
            if not done:
                break
            purged += done
    if purged:
        log.info("purged the personal data of %s ended orders", purged)
    return purged


def _batch(model, cutoff, now) -> int:
    field = ORDER_FIELD[model]
    with transaction.atomic():
        due = model.objects.select_for_update(skip_locked=True).filter(
            ended_at__lt=cutoff, purged_at__isnull=True
        )
        pks = list(due.order_by("ended_at").values_list("pk", flat=True)[:BATCH])
        if not pks:
            return 0
        reports = ReportFile.objects.filter(**{f"{field}__in": pks})
        files = [name for name in reports.values_list("file", flat=True) if name]
        reports.delete()
        OrderWrite.objects.filter(**{f"{field}__in": pks}).update(
            payload=None, exam_username="", exam_password=""
        )
        model.objects.filter(pk__in=pks).update(**BLANKS[model], purged_at=now, updated_at=now)
        transaction.on_commit(lambda: _delete_files(files))
    return len(pks)


def _delete_files(names: list[str]) -> None:
    storage = ReportFile._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # gone already, or the store refused: the row no longer names it
            log.warning("a purged report file could not be deleted from the report storage")
