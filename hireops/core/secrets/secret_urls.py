"""URLs without their secrets, wherever they are written: access lines, Django's "Not Found"
warnings, referers, exceptions, error reports (``scrubbing.scrub_text`` applies both rules).

Two rules, neither naming an app:

- **Query values are masked unless their key is known to be harmless** (``SAFE_QUERY_KEYS``:
  page, ordering, popup flags). A search (``q=`` a mobile or an email), an OAuth ``code=`` or
  ``state=``, an admin filter on a personal field, a ``next=`` carrying another URL: whatever
  a page or a library adds tomorrow is masked by default, and a value is masked however it is
  encoded (``%40`` for an ``@``), which a pattern for mobiles or emails would miss.
- **A URL pattern declares its secret segments** with the ``secret`` path converter
  (``path("invitation/<secret:token>/", …)``), registered by ``hireops.core`` for every
  app's ``urls.py``. The rules are read from the URL resolver itself (every pattern the
  project and its libraries mount, once per process and URLconf), so a new secret link is
  masked as soon as its pattern says so, and a non-secret one keeps its path readable.
  The URLconf is loaded for this only once Django's apps are ready, and only for a text
  with a "/" in it.

Imported by the settings (through ``scrubbing`` and the logging configuration): Django's URL
machinery is imported inside functions only.
"""

import re
import threading

FILTERED = "[Filtered]"
CONVERTER = "secret"

SAFE_QUERY_KEYS = frozenset(
    {
        "p",  # the admin's page number
        "o",  # the admin's ordering (column numbers)
        "all",  # the admin's "show all"
        "e",  # the admin's "invalid filter" flag
        "_popup",
        "_to_field",
        "page",
        "page_size",
        "language",
    }
)
# ``key=value`` right after a "?" or a "&", in any text. A value stops where a URL would.
_QUERY_PAIR = re.compile(r"(?<=[?&])([^=&?#\s\"'<>]+)=([^&#\s\"'<>]+)")
# What a secret segment may be in free text: anything up to the URL's next part.
_SEGMENT = r"[^/?#&\s\"'<>]+"


class SecretConverter:
    """``<secret:name>``: a path segment matched like ``<str:name>`` that logs never show."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register_converter() -> None:
    """Called by ``hireops.core``'s ``ready()``, before any URLconf is imported."""
    from django.urls import converters, register_converter

    if CONVERTER not in converters.get_converters():
        register_converter(SecretConverter, CONVERTER)


def mask_query_values(text: str) -> str:
    if "=" not in text:
        return text
    return _QUERY_PAIR.sub(lambda m: m.group() if m[1] in SAFE_QUERY_KEYS else f"{m[1]}={FILTERED}", text)


def mask_secret_segments(text: str) -> str:
    if "/" not in text:
        return text
    for pattern, names in path_rules():
        text = pattern.sub(lambda m, names=names: _masked(m, names), text)  # type: ignore[misc]  # bound per rule
    return text


def _masked(match: re.Match, names: tuple[str, ...]) -> str:
    text, start = match.group(), match.start()
    for name in reversed(names):  # right to left: earlier spans stay where they were
        left, right = match.span(name)
        text = text[: left - start] + FILTERED + text[right - start :]
    return text


# --- The rules, from the URL resolver ----------------------------------------------------------
_lock = threading.Lock()
_building = threading.local()
_rules: tuple[object, list] = (None, [])  # (the resolver they were read from, the rules)


def path_rules() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    """(a regex finding one secret pattern's path in text, its secret groups), per pattern."""
    resolver = _resolver()
    if resolver is None or getattr(_building, "active", False):
        return []  # no URLconf here yet (gunicorn's master, settings loading), or building it
    if _rules[0] is resolver:
        return _rules[1]
    with _lock:
        if _rules[0] is not resolver:
            _building.active = True  # a line logged while the URLconf imports is not masked by it
            try:
                _set(resolver, list(_read(resolver.url_patterns, ())))
            except Exception:  # an URLconf that cannot load: Django's own checks say why
                _set(resolver, [])
            finally:
                _building.active = False
        return _rules[1]


def _set(resolver, rules) -> None:
    global _rules
    _rules = (resolver, rules)


def _resolver():
    try:
        from django.apps import apps
        from django.conf import settings

        if not (settings.configured and apps.ready):
            return None
        from django.urls import get_resolver

        return get_resolver()
    except Exception:
        return None


def _read(patterns, prefix: tuple):
    from django.urls import URLResolver

    for pattern in patterns:
        chain = (*prefix, pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _read(pattern.url_patterns, chain)
        else:
            try:
                rule = _rule(chain)
            except re.error:  # a regex pattern this cannot take apart: it declares no secret
                continue
            if rule is not None:
                yield rule


def _rule(chain: tuple) -> tuple[re.Pattern, tuple[str, ...]] | None:
    """The regex for the path of a pattern whose chain declares secret segments: each part's
    own regex, its other groups unnamed, up to the last secret segment."""
    parts: list[str] = []
    secrets: list[str] = []
    for part in chain:
        source = part.regex.pattern.removeprefix("^").removesuffix(r"\Z").removesuffix("$")
        found: list[str] = []
        for name, converter in getattr(part, "converters", {}).items():
            if isinstance(converter, SecretConverter):
                group = f"(?P<{name}>{converter.regex})"
                source = source.replace(group, f"\0{len(secrets) + len(found)}\0")
                found.append(name)
        source = re.sub(r"\(\?P<\w+>", "(?:", source)
        for i in range(len(secrets), len(secrets) + len(found)):
            source = source.replace(f"\0{i}\0", f"(?P<s{i}>{_SEGMENT})")
        secrets += found
        parts.append(source)
    if not secrets:
        return None
    source = "/" + "".join(parts)
    last = f"(?P<s{len(secrets) - 1}>{_SEGMENT})"
    source = source[: source.rindex(last) + len(last)]  # what follows the secret need not be there
    return re.compile(source), tuple(f"s{i}" for i in range(len(secrets)))
