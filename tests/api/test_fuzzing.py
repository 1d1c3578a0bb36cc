"""Property-based tests over the whole OpenAPI document (schemathesis): every operation, with
valid and invalid inputs, never answers a 5xx, answers only the statuses and content types
it documents, conforms to its response schemas, rejects what the schema forbids and honours
authentication. Every check runs but ``positive_data_acceptance`` (a valid request may still
be refused by the data: an id that does not exist) and the stateful ``use_after_free``.

Each operation is exercised, not just asked: a path's id, when generated valid, is the id of a
row the apps' tests build (a random one only ever finds "no such object"), and the answers
are counted per operation. An operation answered mostly by the rate limit, or only ever by the
key checks and 404, fails the test: its checks would have passed without reading a thing.
"""

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation

from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from tests.api.document import served_document
from tests.second_factor import give_totp

from .keys import bearer, make_key
from .test_every_operation import examples

# The document as served, loaded without a request (a WSGI request at import would close the
# database connection other tests' modules share), then called through the WSGI application.
schema = schemathesis.openapi.from_dict(served_document())
schema.app = get_wsgi_application()
EXCLUDED = [checks.positive_data_acceptance, checks.use_after_free]
MAX_EXAMPLES = 25  # at least, per operation: hypothesis's examples, after schemathesis's own cases
# Answers that say nothing of what the operation did with its input.
UNREAD = frozenset({401, 403, 404, 405, 429})


@dataclass
class World:
    headers: dict[str, str]
    ids: dict[str, str]  # path template -> the id of a row of it
    answered: Counter[int] = field(default_factory=Counter)  # status -> how many, this operation's


@pytest.fixture
def world(db, settings, admin_user, request):
    """A key with every scope (of a person who may move money), the rows each app's tests build,
    and room in the rate limit; afterwards, proof that the operation was exercised."""
    # Read at every request (hireops.api.ratelimit.take), in this process: schemathesis calls
    # the WSGI application in-process, so the override reaches it (a server of its own would
    # not). Each key counts under its own prefix, never reused, so no other key's requests
    # count against this one.
    settings.API_RATE_LIMIT = 1_000_000
    give_totp(admin_user)
    key = make_key(*all_scopes(), by=admin_user)
    row = ApiKey.objects.get(prefix=key[:12])  # what a key owns (its endpoints) is made as this one
    ids = {path: build("fuzz-tenant", key=row) for path, build in examples().items()}
    # The WSGI handler closes the connection after each request; the test's transaction lives
    # on it (Django's test client disconnects the same receivers).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    world = World({"Authorization": f"Bearer {key}"}, ids)
    failed = request.session.testsfailed
    yield world
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
    if request.session.testsfailed > failed:
        return  # the test's own failure (counted before its teardown) says more
    answered, total = world.answered, world.answered.total()
    assert total >= MAX_EXAMPLES, f"only {total} requests: {dict(answered)}"
    assert answered[429] == 0, f"the rate limit answered {answered[429]} of {total}: {dict(answered)}"
    assert set(answered) - UNREAD, f"never past the key checks and 404: {dict(answered)}"


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case, world):
    real = world.ids.get(case.operation.path)
    if real is not None and case.path_parameters and not case.meta.is_negative_at(ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, "id": real}
    response = case.call_and_validate(headers=world.headers, excluded_checks=EXCLUDED)
    if case.method.upper() == case.operation.method.upper():  # not a method the path does not take
        world.answered[response.status_code] += 1


@pytest.mark.django_db
def test_a_key_never_counts_what_another_key_with_its_id_used(client, settings):
    """A key's id is given out again (a database recreated or restored, a transaction rolled
    back: every test's), while the counters outlive it in Redis or the file cache (a run in one
    process on a development stack's Redis; production after a restore). Counted by the id, a
    new key started on what another had used, and was answered 429."""
    settings.API_RATE_LIMIT = 2
    first = make_key("tenants:read")
    assert [client.get("/api/v1/key", **bearer(first)).status_code for _ in range(3)] == [200, 200, 429]
    row = ApiKey.objects.get(prefix=first[:12])
    used_id = row.pk
    row.delete()
    second = make_key("tenants:read")
    ApiKey.objects.filter(prefix=second[:12]).update(id=used_id)
    assert client.get("/api/v1/key", **bearer(second)).status_code == 200
