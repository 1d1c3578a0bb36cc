"""An enrolment link for a user with no second factor yet, printed for whoever runs this.

For the first superuser of a new deployment, who has nobody above them to issue one in the
admin (and maybe no Feishu sign-in yet): access to the server's shell is the proof beyond the
password. Everyone else gets theirs from a superuser (Users › "Issue an enrolment link…") or
signs in with Feishu. The link is printed once and only its digest is kept.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.urls import reverse

from hireops.core.management.base import HireopsCommand
from hireops.signin import second_factor
from hireops.signin.models import EnrolmentLink

log = logging.getLogger("hireops.signin")


class Command(HireopsCommand):
    help = (
        "Print a one-time link that lets USERNAME set up a first second factor (an authenticator app "
        "or a security key): for the first superuser, who has nobody to issue one in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user who will open the link, signed in as themself")
        parser.add_argument(
            "--base-url",
            default="",
            help="the admin's address as staff reach it (default: ADMIN_BASE_URL)",
        )

    def handle(self, *args, username, base_url, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if second_factor.enrolled(user):
            raise CommandError(
                f"{username} has a second factor already: a link is for setting up a first one "
                "(a superuser resets a lost one in the admin first)."
            )
        link, token = EnrolmentLink.issue(user)
        log.info("enrolment link %s issued from the shell for user %s", link.pk, user.pk)
        base = (base_url or settings.ADMIN_BASE_URL).rstrip("/")
        hours = settings.ENROLMENT_LINK_HOURS
        self.stdout.write(f"Enrolment link for {username} (works once, within {hours} hours):")
        self.stdout.write(base + reverse("signin_enrolment_link", args=[token]))
        self.stdout.write(
            f"Sign in as {username}, open the link, then set up an authenticator app or a security key."
        )
