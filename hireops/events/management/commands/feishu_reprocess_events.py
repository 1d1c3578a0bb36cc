from django.core.management.base import CommandError

from hireops.core.management.base import HireopsCommand
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import events_reprocess


class Command(HireopsCommand):
    help = (
        "Queue Feishu events again, by id (event_id or pk) or by status: failed ones, and ignored "
        "ones whose type has a handler now."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", help="event_id or numeric pk")
        parser.add_argument(
            "--status",
            choices=[EventStatus.FAILED, EventStatus.IGNORED],
            help="every event in this status (ignored: those whose type has a handler now)",
        )

    def handle(self, *args, ids, status, **options):
        if not ids and not status:
            raise CommandError("give event ids, or --status failed or --status ignored")
        qs = FeishuEvent.objects.none()
        if status:
            qs = FeishuEvent.objects.filter(status=status)
        if ids:
            pks = [int(i) for i in ids if i.isdigit()]
            qs = qs | FeishuEvent.objects.filter(event_id__in=ids) | FeishuEvent.objects.filter(pk__in=pks)
        n = len(events_reprocess(qs))
        self.stdout.write(f"{n} event(s) queued for reprocessing")
