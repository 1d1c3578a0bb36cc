"""The partners' REST API, ``/api/v1/``: what every operation shares.

Keys and their scopes (``keys``, ``scopes``), the rate limit and ``Idempotency-Key`` handling
(``middleware``), problem details (``problems``), how a request's body and fields are read
(``reading``), cursor pagination (``pagination``), the NinjaAPI the operations register on
(``site``), the API as served with every app's ``<app>/api.py`` in it (``served``) and the web
server's worker answering its own refusals as problems (``web_worker``). The platform names no
app: an app declares its scopes and operations over its own services (docs/extending.md).
"""
