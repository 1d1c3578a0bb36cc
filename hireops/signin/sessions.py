"""Ending a user's open sessions (kept in the database and read through the cache: Django's
``cached_db``, so each is ended through its store, which forgets both).

A superuser who resets a colleague's factors does it because a phone was lost or a session is
suspect: the sessions that proved the old factor must not outlive it. Staff's sessions are a
few hundred rows at most, so they are read and matched here rather than indexed by user."""

from importlib import import_module

from django.conf import settings
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
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session_key in ended:
        store(session_key).delete()
    return len(ended)
