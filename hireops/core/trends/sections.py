"""The dashboard's trends section as its readers see it, kept drawn so that opening the
dashboard reads no rollup and draws nothing.

Readers who hold the same permissions see the same charts with the same figures (a chart
decides what it shows by the reader's permissions alone: ``charts.group_of``), so they share
what is kept: the section's HTML per group of readers, period and language. The beat task
``core.trends_refresh`` (every minute) draws it anew, in every language, for each group and
period someone opened in the last day, from figures read anew: a reader meets a section drawn
at most a minute ago, and the page reads one cache key. The first reader of a group and period
(or any reader while the beat is stopped) draws it and has it kept.

What is remembered of a reader is a user's primary key, to read the group's permissions from
when drawing it again; a reader whose permissions changed since falls into another group (their
own next view draws it) and is forgotten.
"""

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from . import charts

# Three beats: a beat late or skipped leaves the section as it was, not a first view to pay.
KEPT_SECONDS = 180
FORGOTTEN_AFTER = 24 * 3600  # a group and period nobody opened for a day is no longer drawn
READERS = "trends:readers"

log = logging.getLogger(__name__)


def _key(group: str, period_key: str, language: str) -> str:
    return f"trends:section:{group}:{period_key}:{language}"


def _drawn(request, period: charts.Period) -> str:
    shown = charts.drawn(request)
    if not shown:
        return ""
    context = {"trends": shown, "periods": charts.PERIODS.values(), "period": period}
    return render_to_string("admin/hireops/trends.html", context)


def section(request) -> SafeString:
    """The trends section for this reader and the period they chose; empty when they may see
    no chart."""
    period = charts.period_of(request)
    group = charts.group_of(request.user)
    key = _key(group, period.key, translation.get_language())
    html = cache.get(key)
    if html is None:
        html = _drawn(request, period)
        cache.set(key, html, KEPT_SECONDS)
        _remember(group, period.key, request.user.pk)
    return mark_safe(html)  # noqa: S308 - drawn by our own template, every value escaped there


def _remember(group: str, period_key: str, user_pk: int) -> None:
    # Read, changed and written whole: a refresh or another reader writing at the same moment
    # may lose this entry, and the group's next reader remembers it again.
    readers = cache.get(READERS) or {}
    readers[f"{group}:{period_key}"] = (group, period_key, user_pk, time.time())
    cache.set(READERS, readers, None)


def forget(group: str, period_key: str) -> None:
    """The group's section and figures of a period are drawn and read anew at their next use."""
    charts.forget(group, period_key)
    cache.delete_many([_key(group, period_key, language) for language, _name in settings.LANGUAGES])


def refresh() -> int:
    """Draw again, from figures read anew, every group and period opened in the last day, in
    each language; returns how many groups and periods it kept drawing."""
    readers = cache.get(READERS) or {}
    wanted = [user_pk for _group, _period, user_pk, _seen in readers.values()]
    users = get_user_model().objects.filter(is_active=True).in_bulk(wanted)  # one query for all
    kept = {}
    for entry, (group, period_key, user_pk, seen) in readers.items():
        if time.time() - seen > FORGOTTEN_AFTER or period_key not in charts.PERIODS:
            continue
        user = users.get(user_pk)
        if user is None or charts.group_of(user) != group:
            continue
        kept[entry] = (group, period_key, user_pk, seen)
        request = HttpRequest()
        request.user = user
        request.GET = QueryDict(f"period={period_key}")
        try:
            _draw_again(request, group, period_key)
        except Exception:  # one group's chart failing leaves the others drawn; it is logged
            log.exception("The trends of a group of readers could not be drawn again (period %s)", period_key)
    cache.set(READERS, kept, None)
    return len(kept)


def _draw_again(request, group: str, period_key: str) -> None:
    # The figures are read anew; the section kept stays until the new one replaces it, so a
    # reader arriving meanwhile reads the one drawn a minute ago rather than drawing it.
    charts.forget(group, period_key)
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            html = _drawn(request, charts.PERIODS[period_key])
        cache.set(_key(group, period_key, language), html, KEPT_SECONDS)
