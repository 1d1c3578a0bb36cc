"""The API's states and the admin's words for them: every value a state field can hold is
described, in the document and in docs/api.md, by the label the admin shows for it (in
English), taken from the model's choices, so a partner talking with staff finds one in the
other, and a label changed in the admin changes the description (docs/api.md must follow)."""

from pathlib import Path

import pytest
from django.utils import translation

from hireops.core.models import CallStatus
from orders.api import catalogue_schemas
from orders.api import schemas as order_schemas
from orders.catalogue.models import RolloutStatus
from orders.models import CheckState, ExamState, WriteKind
from referrals.admin.payouts import OUTCOMES
from referrals.api import schemas as referral_schemas
from referrals.models import AccountStatus, PayoutRunStatus, RewardRuleType, RewardStage
from tests.api.document import served_document
from tests.conftest import ROOT

DOC = served_document()
SCHEMAS = DOC["components"]["schemas"]
GUIDE = Path(ROOT, "docs", "api.md").read_text()

ORDER_STATES = dict([*CheckState.choices, *ExamState.choices]).items()
WRITE_STATUS = [(order_schemas.STATUS[value].value, label) for value, label in CallStatus.choices]
CALL_STATE = [(referral_schemas._STATE[value], label) for value, label in CallStatus.choices]
PUSH_STATUS = [(catalogue_schemas.STATUS[value].value, label) for value, label in CallStatus.choices]
RULES = [(referral_schemas._RULE_OF[value], label) for value, label in RewardRuleType.choices]
STAGES = [(referral_schemas._STAGE_OF[value], label) for value, label in RewardStage.choices]
# (schema, field, the admin's label of each value the API writes)
WORDS = [
    ("OrderOut", "state", ORDER_STATES),
    ("WriteOut", "status", WRITE_STATUS),
    ("WriteOut", "kind", WriteKind.choices),
    ("RewardOut", "status", CALL_STATE),
    ("DeletionOut", "status", CALL_STATE),
    ("RewardOut", "rule_type", RULES),
    ("RewardIn", "rule_type", RULES),
    ("RewardOut", "stage", STAGES),
    ("RewardIn", "stage", STAGES),
    ("AccountOut", "status", AccountStatus.choices),
    ("PayoutRunOut", "status", PayoutRunStatus.choices),
    ("PayrollRowOut", "outcome", OUTCOMES.items()),
    ("RolloutOut", "status", RolloutStatus.choices),
    ("PushOut", "status", PUSH_STATUS),
]
IDS = [f"{schema}.{field}" for schema, field, _words in WORDS]


def english(words) -> list[tuple[str, str]]:
    with translation.override("en"):
        return [(str(value), str(label)) for value, label in words]


def values(schema: dict) -> set[str]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return set(schema["enum"])


@pytest.mark.parametrize(("schema", "field", "words"), WORDS, ids=IDS)
def test_the_document_describes_each_value_with_the_admins_words(schema, field, words):
    prop = SCHEMAS[schema]["properties"][field]
    pairs = english(words)
    assert values(prop) == {value for value, _label in pairs}, "a value the admin has no word for, or none"
    for value, label in pairs:
        assert f"`{value}`: {label}" in prop["description"], (value, label, prop["description"])


@pytest.mark.parametrize(("schema", "field", "words"), WORDS, ids=IDS)
def test_the_partners_guide_gives_the_same_words(schema, field, words):
    for value, label in english(words):
        assert f"`{value}` → {label}" in GUIDE, f"docs/api.md, “The API's words and the admin's”: {value}"
