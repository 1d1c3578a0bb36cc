"""A vendor's system works its orders through the API (``/api/v1/orders``): background checks
and exams in one list, and the writes staff send from the order's page (a progress stage, the
result, a termination, an exam's login and score).

**Ids.** An order's id is hireops' own, prefixed by its kind: ``bgc_<pk>`` for a background
check, ``exam_<pk>`` for an exam. Feishu's id is the field (and filter) ``feishu_id``.

**One list over two tables.** A page is ordered by (``updated_at``, ``type``, pk): each table
is read by one index range scan of its (``updated_at``, id) index (or the tenant's or the
state's (…, updated_at, id) index) from the cursor, ``limit + 1`` rows each, and the two are
merged here; the cursor is the last row's key. No table is sorted or counted, and walking the
list by ``next_cursor`` returns each row once (a row changed during the walk moves to its end).

**Writes** go through the services the admin uses (``orders.sending`` and ``orders.writes``,
the admin's forms for the same size, type and length checks, the same change history, naming
the key). Their fields come as JSON or as a form (``hireops.api.bodies``: multipart when a
report file comes with them), read into one schema: the same checks and answers either way.
A closed order (completed, canceled, terminated, or with its result or termination on the
way; an exam graded) answers a well-formed request 409 ``order-closed``; then Feishu's rules
are checked before anything is queued (422 naming the field), and the answer is the queued
write (202); its later state (``sent``, or ``failed`` with Feishu's message) shows on the
order. A write of the other kind of order (a background check's ``/exam-login``, an exam's
``/progress``) answers 404: the id says the kind, so the operation does not exist for it,
whatever the order.

**Personal data** (names, mobiles, emails, the order form's values and comment, an exam's link
and user name, report names) in full only to keys with ``orders:personal_data``; otherwise
mobiles and emails masked as the admin masks them, free text (the form's values, under their
keys, the comment, an exam's link and user name) hidden whole as the admin hides it
(``personal.HIDDEN``), and the rest to its first character.

**Modules.** The operations by subject: ``orders`` (reading the orders), ``results`` (what a
vendor sends about one) and ``catalogue`` (``/catalogue/…``, documented there); what they
answer and take: ``schemas`` and ``catalogue_schemas``; the orders' scopes: ``scopes``. Each
operations module mounts a router of its own.
"""

from . import catalogue, orders, results  # noqa: F401  (their operations register as they are imported)
