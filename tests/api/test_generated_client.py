"""A partner's generated client: openapi-python-client generates one from the document a live
server serves, with no warning about the document, and the client works against that server as
the document says: a write with an ``Idempotency-Key`` (201, ``Location``, then the same answer
replayed), a list walked page by page through ``next_cursor``, a problem read as one."""

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from .keys import make_key

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "hireops_partner_api_client"  # from the document's title


@pytest.fixture
def generated(live_server, tmp_path):
    """The client package, generated from the served document and importable."""
    served = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30)
    assert served.status_code == 200
    document = tmp_path / "openapi.json"
    document.write_bytes(served.content)
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run on the code: not what is tested
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--config",
            str(config),
            "--output-path",
            str(tmp_path / "client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    # Anything the generator could not make sense of in the document is a defect of the contract.
    assert "Warning" not in said and "Error" not in said, said
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_writes_once_and_walks_a_list(generated, live_server):
    client_module = generated("client")
    create_customer = generated("api.customers.create_customer")
    list_customers = generated("api.customers.list_customers")
    get_customer = generated("api.customers.get_customer")
    models = generated("models")

    client = client_module.AuthenticatedClient(
        base_url=f"{live_server.url}/api/v1", token=make_key("customers:write", "customers:read")
    )
    key = str(uuid.uuid4())
    body = models.CustomerIn(name="ACME", identifiers=[models.IdentifierIn(key="org_id", value="ACME-001")])
    made = create_customer.sync_detailed(client=client, body=body, idempotency_key=key)
    assert made.status_code == 201, made.content
    assert isinstance(made.parsed, models.CustomerOut) and made.parsed.name == "ACME"
    assert made.headers["Location"] == f"/api/v1/customers/{made.parsed.id}"
    assert made.headers["RateLimit-Policy"].startswith('"default";q=')

    again = create_customer.sync_detailed(client=client, body=body, idempotency_key=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed.id == made.parsed.id and again.headers["Location"] == made.headers["Location"]

    others = [
        create_customer.sync(
            client=client, body=models.CustomerIn(name=f"Customer {n}"), idempotency_key=str(uuid.uuid4())
        )
        for n in range(4)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        page = (
            list_customers.sync(client=client, limit=2, cursor=cursor)
            if cursor
            else list_customers.sync(client=client, limit=2)
        )
        assert isinstance(page, models.PageCustomerOut), page
        seen += [customer.id for customer in page.data]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted([made.parsed.id, *(o.id for o in others)]) and pages == 3

    missing = get_customer.sync(client=client, id=made.parsed.id + 1000)
    assert isinstance(missing, models.ProblemOut)
    assert (missing.status, missing.type_) == (404, "urn:hireops:problem:not-found")
