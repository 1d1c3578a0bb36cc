"""Create (or reset) the demo login the README's run command prints, and the demo's data.

Each app seeds its part of the demo from its ``demo.py`` (``seed()``, idempotent), so the
first minutes of ./dev run show the product working. DEBUG only: never in production.
"""

from importlib import import_module
from pathlib import Path

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import module_has_submodule

DEMO_FEISHU_EMAIL = "wei.zhang@demo.example.com"


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
        # The sandbox's 张伟: "Sign in with Feishu" as him links to this user on first use.
        user.email = user.email or DEMO_FEISHU_EMAIL
        user.set_password(password)
        user.save()
        verb = "created" if created else "reset"
        state_file = settings.SANDBOX_STATE_FILE
        if created and state_file and Path(state_file).exists():
            # A new database: the sandbox's saved state is another demo's Feishu (accounts this
            # one never bound, catalogues it never sent). Both start over together.
            Path(state_file).unlink()
            self.stdout.write(f"A new demo database: the sandbox starts from its seed ({state_file} removed)")
        seeded = []
        for config in apps.get_app_configs():
            if module_has_submodule(config.module, "demo"):
                import_module(f"{config.name}.demo").seed()
                seeded.append(config.label)
        self.stdout.write(f"Demo data in place: {', '.join(seeded) or 'none'}")
        self.stdout.write(self.style.SUCCESS(f"Demo login {verb}: {username} / {password}"))
        self.stdout.write(
            "Or 使用飞书登录 / Sign in with Feishu as 张伟 (the sandbox employee linked to it). A superuser "
            "sets up a second factor (an authenticator app) at the first sign-in."
        )
        if not Authenticator.objects.filter(user=user).exists():
            # A password alone never sets one up (hireops.signin.enrolment): signing in with
            # Feishu does, or this link, opened after the password sign-in.
            call_command("enrolment_link", username, stdout=self.stdout)
