"""The contract: the served OpenAPI document is the reviewed snapshot in docs/openapi.json, so
every change to the API is a diff someone reads (regenerate with `manage.py api_schema`)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_document_is_the_reviewed_snapshot(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    snapshot = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served.json() == snapshot, (
        "The API's contract changed: review the difference, then run `manage.py api_schema` and "
        "commit docs/openapi.json with the change."
    )


def test_the_document_is_openapi_3_1_and_names_the_version(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1.") and doc["info"]["version"] == "1"
    assert doc["components"]["securitySchemes"]["ApiKey"] == {"type": "http", "scheme": "bearer"}
