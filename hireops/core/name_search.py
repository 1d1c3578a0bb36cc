"""A part of a name, in any case, found through an index on PostgreSQL, Chinese names included.

Django's ``icontains`` compares ``UPPER(name) LIKE UPPER('%term%')``. A trigram index
(``hireops.core.trigram.trigram_index``) serves that only when the term holds a trigram, three
letters or digits in a row: "张三" holds none, so PostgreSQL read every row (200 ms at 200,000
accounts, about 1 s at a million), and in a database whose ``LC_CTYPE`` is C pg_trgm sees no
Chinese character at all. For such a term ``contains`` adds a condition the bigram index
(``trigram.bigram_index``) answers: the row's characters and pairs of adjacent characters hold
every pair of the term (its character, for a one-character term). Any row containing the term
meets it, and the LIKE stays beside it and decides: the rows found are exactly icontains'
rows. On SQLite (small data), icontains alone.
"""

import re

from django.db import connection
from django.db.models import BooleanField, Func, Q, TextField, Value
from django.db.models.functions import Collate, Upper

from .trigram import BIGRAMS, TERM_BIGRAMS

# Three ASCII letters or digits in a row: pg_trgm extracts a trigram from them in any locale.
_TRIGRAM = re.compile(r"[A-Za-z0-9]{3}")


def contains(field: str, term: str) -> Q:
    """Rows whose ``field`` (a path, ``account__name``) contains ``term`` in any case: Django's
    ``icontains``, plus, on PostgreSQL for a term no trigram serves, the bigram index's
    condition. The column needs a bigram index (``trigram.bigram_index``) for that to help."""
    found = Q(**{f"{field}__icontains": term})
    if not term or connection.vendor != "postgresql" or _TRIGRAM.search(term):
        return found
    return found & Q(_HoldsAll(_bigrams(field), _term_bigrams(term)))


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
