"""Property-based tests over the whole OpenAPI document (schemathesis): every operation, with
valid and invalid inputs, never answers a 5xx, answers only the statuses and content types
it documents, conforms to its response schemas, rejects what the schema forbids and honours
authentication. Every check runs but ``positive_data_acceptance`` (a valid request may still
be refused by the data: an id that does not exist) and the stateful ``use_after_free``."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from hireops.api.site import api

from .keys import make_key
from .test_every_operation import examples

# The document as served, loaded without a request (a WSGI request at import would close the
# database connection other tests' modules share), then called through the WSGI application.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
schema.app = get_wsgi_application()
EXCLUDED = [checks.positive_data_acceptance, checks.use_after_free]


@pytest.fixture
def world(db, settings):
    """A key with every scope, the rows each app's tests build, and room in the rate limit."""
    settings.API_RATE_LIMIT = 1_000_000
    key = make_key(*all_scopes())
    row = ApiKey.objects.get(prefix=key[:12])
    for build in examples().values():
        build("fuzz-tenant", key=row)
    # The WSGI handler closes the connection after each request; the test's transaction lives
    # on it (Django's test client disconnects the same receivers).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {key}"}
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case, world):
    case.call_and_validate(headers=world, excluded_checks=EXCLUDED)
