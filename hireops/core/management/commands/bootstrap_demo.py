"""Create (or reset) the demo login the README's run command prints."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or reset the demo superuser for local runs (refuses when DEBUG is off)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="hireops-demo")

    def handle(self, *args, username, password, **options):
        if not settings.DEBUG:
            raise CommandError("bootstrap_demo only runs with DEBUG=1: it sets a well-known password.")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(self.style.SUCCESS(f"Demo login {verb}: {username} / {password}"))
