"""Every time the API answers is in UTC (``…Z``), whatever the deployment's time zone (the
admin's is Asia/Shanghai): every GET operation of the document is called on rows of every
table, and every moment its schema declares, and every time written in any text, is checked;
every webhook event's data (the API's schemas, encoded as events.py encodes them) too. A
refusal naming a time names its offset."""

import datetime as dt
import json
import re
import types
import typing

import pytest
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder
from pydantic import AwareDatetime, BaseModel, NaiveDatetime, TypeAdapter

from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from hireops.webhooks import events
from orders.models import BackgroundCheck, OrderWrite, ReportFile
from referrals.models import ExternalReferralReward, PayoutLine, ReferralAccount
from tests.api.document import served_document
from tests.factories import a_background_check

from .keys import bearer, make_key
from .test_every_operation import PARAM, TENANT_A, examples

DOC = served_document()
BASE = DOC["servers"][0]["url"]  # the paths are relative to it
SCHEMAS = DOC["components"]["schemas"]
GETS = sorted(path for path, item in DOC["paths"].items() if "get" in item)
# A time written anywhere in a text: a date, a time, and the offset it names.
WRITTEN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MS = 1_764_000_000_123  # 2025-11-24T16:00:00.123Z


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def declared_times(value, schema: dict, where: str, found: list) -> None:
    """(where, value) of every value the schema declares a date-time."""
    schema = resolve(schema)
    if value is None:
        return
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        declared_times(value, alternative, where, found)
    if schema.get("format") == "date-time":
        found.append((where, value))
    elif isinstance(value, dict):
        for name, inner in value.items():
            declared_times(inner, schema.get("properties", {}).get(name, {}), f"{where}.{name}", found)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            declared_times(inner, schema.get("items", {}), f"{where}[{i}]", found)


def written_offsets(value) -> set[str]:
    """The offsets named by every time written in any text of an answer."""
    if isinstance(value, dict):
        return set().union(*(written_offsets(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(written_offsets(v) for v in value)) if value else set()
    return set(WRITTEN_TIME.findall(value)) if isinstance(value, str) else set()


@pytest.fixture
def in_shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with timezone.override("Asia/Shanghai"):
        yield


def rows_with_every_time(key) -> dict[str, str]:
    """Rows of tenant A in every table (each test module's EXAMPLES; what a key owns made as
    ``key``), with the times that are set only later in a row's life set too (a paid payout
    line's, a write's, a balance's)."""
    ids = {path: build(TENANT_A, key=key) for path, build in examples().items()}
    check = a_background_check(TENANT_A)
    ids["/api/v1/orders/{id}"] = f"bgc_{check.pk}"
    OrderWrite.objects.create(
        kind="progress", background_check=check, stage_id="s1", time_ms=MS, finished_at=timezone.now()
    )
    ReportFile.objects.create(background_check=check, name="r.pdf", preview_url="https://r.example.com/1")
    BackgroundCheck.objects.filter(pk=check.pk).update(ended_at=timezone.now())
    PayoutLine.objects.update(trans_time=MS)
    ReferralAccount.objects.update(balance_synced_at=timezone.now(), assets_modify_time=MS)
    ExternalReferralReward.objects.update(
        **dict.fromkeys(("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time"), MS),
        finished_at=timezone.now(),
    )
    return ids


@pytest.mark.django_db
def test_every_answer_gives_its_times_in_utc(client, in_shanghai):
    key = make_key(*all_scopes(), days=30)
    ids = rows_with_every_time(ApiKey.objects.get(prefix=key[:12]))
    checked: set[str] = set()
    for path in GETS:
        url = BASE + (PARAM.sub(ids[BASE + path], path) if PARAM.search(path) else path)
        answer = client.get(url, **bearer(key))
        assert answer.status_code == 200, (url, answer.content[:300])
        body = answer.json()
        schema = DOC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        found: list = []
        declared_times(body, schema, path, found)
        for where, value in found:
            assert isinstance(value, str) and value.endswith("Z"), (where, value)
            assert dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(0), (where, value)
            checked.add(where.rsplit(".", 1)[-1].split("[")[0])
        assert written_offsets(body) <= {"Z", "+00:00"}, (path, written_offsets(body))
    # The enumeration reached the times set late in a row's life, and the lines of a payout run.
    assert {"transaction_time", "time", "balance_as_of", "pay_time", "expires_at", "finished_at"} <= checked


def _time_fields(model: type[BaseModel], where: str = ""):
    """(where, the field's type) of every time a schema holds, in its nested schemas too."""
    for name, field in model.model_fields.items():
        annotation = (
            typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        )
        for inner in _inner_types(field.annotation):
            if inner in (dt.datetime, AwareDatetime, NaiveDatetime):
                yield f"{where}{model.__name__}.{name}", annotation
            elif isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from _time_fields(inner, f"{where}{model.__name__}.{name} → ")


def _inner_types(annotation) -> list:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [t for arg in typing.get_args(annotation) for t in _inner_types(arg)]
    return [annotation]


def test_every_webhook_events_data_gives_its_times_in_utc():
    """An event's data is the API's schema encoded as events.py encodes it: a time given in the
    deployment's zone (as the admin shows it) comes out in UTC."""
    local = dt.datetime(2026, 11, 25, 17, 30, tzinfo=SHANGHAI)
    seen = 0
    for name, event_type in events.types().items():
        if event_type.schema is None:  # ping: the endpoint's id, URL and description
            continue
        for where, annotation in _time_fields(event_type.schema):
            adapter = TypeAdapter(annotation)
            written = json.dumps(adapter.dump_python(adapter.validate_python(local)), cls=NinjaJSONEncoder)
            assert written == '"2026-11-25T09:30:00Z"', (name, where, written)
            seen += 1
    assert seen > 20


@pytest.mark.django_db
def test_a_refusal_naming_a_time_names_its_offset(client, in_shanghai):
    check = a_background_check(TENANT_A)
    key = make_key("orders:write")
    url = f"/api/v1/orders/bgc_{check.pk}/progress"
    first = client.post(url, {"stage_name": "一", "stage_time": "2026-11-20T02:00:00.250Z"}, **bearer(key))
    assert first.status_code == 202, first.content
    late = client.post(url, {"stage_name": "二", "stage_time": "2026-11-20T02:00:00.100Z"}, **bearer(key))
    assert late.status_code == 422
    # To the millisecond (Feishu compares them), in UTC like every time of the API.
    assert "(2026-11-20 02:00:00.250+00:00)" in late.json()["detail"], late.json()
