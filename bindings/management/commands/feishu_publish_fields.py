from django.core.management.base import CommandError

from bindings.models import Scope
from bindings.publishing import PublishRefused, fields_publish_request
from hireops.core.management.base import HireopsCommand


class Command(HireopsCommand):
    help = (
        "Queue a publish of one scope's active custom fields to Feishu (1 background check, 2 exam), "
        "to every tenant that installed the app."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scope", type=int, required=True, choices=Scope.values)

    def handle(self, *args, scope, **options):
        try:
            publishes = fields_publish_request(scope)
        except PublishRefused as exc:
            raise CommandError(str(exc)) from exc
        for publish in publishes:
            to = f" to tenant {publish.tenant_key}" if publish.tenant_key else ""
            self.stdout.write(f"publish #{publish.pk} of {Scope(scope).label}{to} queued")
