import pickle

import pytest

from hireops.feishu.errors import (
    FeishuAuthError,
    FeishuBusinessError,
    FeishuQuotaExhausted,
    FeishuRateLimited,
    FeishuServerError,
    FeishuTransportError,
    error_from_response,
)


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable"),
    [
        (429, 99991400, FeishuRateLimited, True),
        (400, 99991400, FeishuRateLimited, True),  # older APIs answer 400
        (200, 1000004, FeishuRateLimited, True),
        (429, None, FeishuRateLimited, True),
        # What reaches a caller after the client's own fresh-token retry (or ticket resend) is final.
        (400, 99991663, FeishuAuthError, False),
        (400, 99991671, FeishuAuthError, False),
        (400, 10012, FeishuAuthError, False),
        (400, 10015, FeishuAuthError, False),  # wrong secret needs a person
        (400, 99991543, FeishuAuthError, False),
        (400, 99991672, FeishuAuthError, False),  # a scope missing in the console
        (500, 1002001, FeishuServerError, True),
        (400, 1002001, FeishuBusinessError, False),  # "parameter error or system exception": a refusal
        (200, 2200, FeishuServerError, True),  # "internal error, retry later"
        (429, 99991403, FeishuQuotaExhausted, False),  # monthly quota: not a rate limit
        (400, 99991403, FeishuQuotaExhausted, False),
        (502, None, FeishuServerError, True),
        (400, 1002551, FeishuBusinessError, False),
        (400, 1002002, FeishuBusinessError, False),
        (404, None, FeishuBusinessError, False),
    ],
)
def test_classification(status, code, cls, retryable):
    err = error_from_response(status, code, "m", log_id="L1", endpoint="ep")
    assert type(err) is cls
    assert err.retryable is retryable
    assert (err.code, err.http_status, err.log_id, err.endpoint) == (code, status, "L1", "ep")


def test_str_is_readable_and_carries_only_what_feishu_said():
    err = error_from_response(400, 1002551, "user does not exist", log_id="202501abc", endpoint="hire.x")
    assert str(err) == "Feishu hire.x failed: user does not exist code=1002551 http=400 log_id=202501abc"


def test_maybe_applied_tells_tasks_whether_a_blind_repeat_is_risky():
    assert FeishuServerError(500, "x").maybe_applied
    assert FeishuTransportError("read timeout").maybe_applied
    assert not FeishuTransportError("could not connect", maybe_applied=False).maybe_applied
    assert not FeishuRateLimited(99991400, "x").maybe_applied
    assert not FeishuBusinessError(1002551, "x").maybe_applied


def test_errors_survive_pickling_for_celery():
    err = FeishuRateLimited(99991400, "slow down", reset_after=2.5, http_status=429, log_id="L", endpoint="e")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert (type(back), back.code, back.reset_after, back.log_id, str(back)) == (
        FeishuRateLimited,
        99991400,
        2.5,
        "L",
        str(err),
    )
    auth = pickle.loads(pickle.dumps(FeishuAuthError(None, "ticket", retryable=True)))  # noqa: S301
    assert auth.retryable is True
