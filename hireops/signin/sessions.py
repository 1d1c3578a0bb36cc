"""Ending a user's open sessions (hireops keeps sessions in the database, Django's default).

A superuser who resets a colleague's factors does it because a phone was lost or a session is
suspect: the sessions that proved the old factor must not outlive it. Staff's sessions are a
few hundred rows at most, so they are read and matched here rather than indexed by user."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone


def end_sessions(user_ids) -> int:
    """Sign these users out wherever they are signed in; the number of sessions ended."""
    wanted = {str(pk) for pk in user_ids}
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500)
        if session.get_decoded().get(SESSION_KEY) in wanted
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)
