"""Feishu as the outbound engine's callee (``hireops.outbound.Callee``): every kind that calls
Feishu registers with ``callee=FEISHU``, and is a ``FeishuKind[Row, Body, Answer]``.

Its failures are the client's (``FeishuError``), judged by the one retry decision of
``hireops.feishu_calls.failures.judge``; a call the task's time limit cut may have reached Feishu;
a row that succeeded keeps Feishu's log id and no error. The engine stays independent of the
Feishu client: this module, a layer above it, is where the two meet.
"""

from typing import Any, TypeAlias

from hireops import outbound
from hireops.feishu import FeishuError, FeishuTransportError

from . import failures


def _judge(row: outbound.CallRow, exc: FeishuError) -> failures.Failure:
    return failures.judge(exc)


def _cut(kind: outbound.AnyKind) -> FeishuError:
    # The task's time limit cut the call: Feishu may have acted.
    return FeishuTransportError(
        "the task's time limit ended the call", maybe_applied=True, endpoint=kind.name
    )


def _cleared(resp: object) -> dict[str, Any]:
    return {"error": "", "error_code": None, "log_id": getattr(resp, "log_id", "") or ""}


# Every call to Feishu is counted, per kind, in the operators' trend (hireops.feishu_calls.trend).
TREND = "feishu.calls"

FEISHU: outbound.Callee[outbound.CallRow, FeishuError, failures.Failure] = outbound.Callee(
    errors=(FeishuError,), judge=_judge, cut=_cut, cleared=_cleared, trend=TREND
)

# A kind that calls Feishu, typed over its row, its body and Feishu's answer (the client's
# typed result): its callbacks' error is the client's, its failure ``failures.Failure``.
FeishuKind: TypeAlias = outbound.Outbound[
    outbound.RowT, outbound.BodyT, outbound.AnswerT, FeishuError, failures.Failure
]
