"""Create the demo login the README's run command prints (once), and the demo's data.

Each app's part of the demo is seeded by its module of ``demo.seeds`` (``seed()``, idempotent),
so the first minutes of ./dev run show the product working. DEBUG only: never in production.
"""

from pathlib import Path

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from hireops.core.management.base import HireopsCommand

from ...seeds import bindings, orders, referrals, webhooks

DEMO_FEISHU_EMAIL = "wei.zhang@demo.example.com"
# Each part of the demo, by the label of the app it seeds, in the order of INSTALLED_APPS: the
# partners' endpoint hears what the others then do.
SEEDS = {
    "webhooks": webhooks.seed,
    "bindings": bindings.seed,
    "orders": orders.seed,
    "referrals": referrals.seed,
}


def demo_superuser(username: str, password: str) -> tuple:
    """The demo superuser and whether it was made now. Its password is set only then: every
    ./dev run runs this, and a new hash (even of the same password) would sign it out of
    every session; a password its user changed stays theirs."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_password(password)
    user.is_staff = user.is_superuser = True
    # The sandbox's 张伟: "Sign in with Feishu" as him links to this user on first use.
    user.email = user.email or DEMO_FEISHU_EMAIL
    user.save()
    return user, created


def login_line(user, created: bool, password: str) -> str:
    """How to sign in, as the run prints it: never a password the login no longer has."""
    username = user.get_username()
    if created:
        return f"Demo login created: {username} / {password}"
    if check_password(password, user.password):  # (no setter: the stored hash is never redone)
        return f"Demo login: {username} / {password}"
    return (
        f"Demo login: {username}, with the password you gave it "
        f"(.venv/bin/python manage.py changepassword {username} sets another)"
    )


class Command(HireopsCommand):
    help = "Create the demo superuser for local runs, once, and the demo's data (refuses when DEBUG is off)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="hireops-demo")

    def handle(self, *args, username, password, **options):
        if not settings.DEBUG:
            raise CommandError("bootstrap_demo only runs with DEBUG=1: it sets a well-known password.")
        user, created = demo_superuser(username, password)
        state_file = settings.SANDBOX_STATE_FILE
        if created and state_file and Path(state_file).exists():
            # A new database: the sandbox's saved state is another demo's Feishu (accounts this
            # one never bound, catalogues it never sent). Both start over together.
            Path(state_file).unlink()
            self.stdout.write(f"A new demo database: the sandbox starts from its seed ({state_file} removed)")
        for seed in SEEDS.values():
            seed()
        self.stdout.write(f"Demo data in place: {', '.join(SEEDS)}")
        self.stdout.write(self.style.SUCCESS(login_line(user, created, password)))
        self.stdout.write(
            "Or 使用飞书登录 / Sign in with Feishu as 张伟 (the sandbox employee linked to it). A superuser "
            "sets up a second factor (an authenticator app) at the first sign-in."
        )
        if not Authenticator.objects.filter(user=user).exists():
            # A password alone never sets one up (hireops.signin.enrolment): signing in with
            # Feishu does, or this link, opened after the password sign-in.
            call_command("enrolment_link", username, stdout=self.stdout)
