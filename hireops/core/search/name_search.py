"""A part of a name, in any case, found through an index on PostgreSQL, Chinese names included.

Django's ``icontains`` compares ``UPPER(name) LIKE UPPER('%term%')``. A trigram index
(``hireops.core.search.trigram.trigram_index``) serves that only when the term holds a trigram, three
letters or digits in a row: "张三" holds none, so PostgreSQL read every row (200 ms at 200,000
accounts, about 1 s at a million), and in a database whose ``LC_CTYPE`` is C pg_trgm sees no
Chinese character at all. For such a term ``contains`` adds a condition the bigram index
(``trigram.bigram_index``) answers: the row's characters and pairs of adjacent characters hold
every pair of the term (its character, for a one-character term). Any row containing the term
meets it, and the LIKE stays beside it and decides: the rows found are exactly icontains'
rows. For one or two Chinese characters the condition alone is exact, and the LIKE goes. On
SQLite (small data), icontains alone.

A term of three Chinese characters in a row ("北京华") holds a trigram wherever pg_trgm counts
Chinese characters as letters (any LC_CTYPE but C): there the trigram index alone serves it
better, since a second condition beside the LIKE skews the planner's row estimates (a list
of 200,000 rows: 35 ms with the trigram index alone, 60 ms with both). Whether it does is asked in
the query itself, ``show_trgm('张三丰') <> '{}'``: an immutable function of a constant, which
PostgreSQL computes when planning, so the condition folds away to the one index that serves,
without a query of its own or a cache of the answer per database.
"""

import re

from django.db import connection
from django.db.models import BooleanField, Func, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Upper

from .trigram import BIGRAMS, TERM_BIGRAMS

# Three ASCII letters or digits in a row: pg_trgm extracts a trigram from them in any locale.
_TRIGRAM = re.compile(r"[A-Za-z0-9]{3}")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Chinese characters: no case, no wildcard
# Three Chinese characters in a row: pg_trgm extracts a trigram from them unless LC_CTYPE is C.
_CHINESE_TRIGRAM = re.compile(f"[{_HAN}]{{3}}")
# One or two Chinese characters: the bigram condition alone is exactly icontains (see contains).
_SHORT_CHINESE = re.compile(f"[{_HAN}]{{1,2}}")
# True when planning wherever pg_trgm sees Chinese characters, false in a C locale.
_TRIGRAMS_SEE_CHINESE = RawSQL("show_trgm('张三丰') <> '{}'", (), output_field=BooleanField())


def contains(field: str, term: str) -> Q:
    """Rows whose ``field`` (a path, ``account__name``) contains ``term`` in any case: Django's
    ``icontains``, plus, on PostgreSQL for a term no trigram serves, the bigram index's
    condition (for three Chinese characters, only in a database whose pg_trgm cannot see
    them). The column needs a bigram index (``trigram.bigram_index``) for that to help."""
    found = Q(**{f"{field}__icontains": term})
    if not term or connection.vendor != "postgresql" or _TRIGRAM.search(term):
        return found
    bigrams = Q(_HoldsAll(_bigrams(field), _term_bigrams(term)))
    if _SHORT_CHINESE.fullmatch(term):
        # A term of one or two characters is a single key (term_bigrams), found among the row's
        # characters and pairs exactly when the name contains it: the LIKE would only add a
        # filter computing the bigrams again for every row found (20 µs a row), which without it
        # PostgreSQL drops (the index answered exactly). Chinese characters have no case, so
        # UPPER leaves the term as it is.
        return bigrams
    if _CHINESE_TRIGRAM.search(term):
        return found & (Q(_TRIGRAMS_SEE_CHINESE) | bigrams)
    return found & bigrams


def _bigrams(field: str) -> Func:
    # Exactly the index's expression, or PostgreSQL would not use it (trigram.bigram_index).
    return Func(Collate(Upper(field), "C"), function=BIGRAMS, output_field=TextField())


def _term_bigrams(term: str) -> Func:
    # UPPER in SQL, as icontains does (Python's str.upper differs for some letters). An
    # immutable function of a constant: PostgreSQL computes it once, when planning.
    return Func(Upper(Value(term)), function=TERM_BIGRAMS, output_field=TextField())


class _HoldsAll(Func):
    """``left @> right``: the array on the left holds every element of the one on the right."""

    template = "%(expressions)s"
    arg_joiner = " @> "
    output_field = BooleanField()
