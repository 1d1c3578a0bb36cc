"""However a person writes a mobile, an email or a resident ID number (grouped with spaces or
dashes, with +86, in full-width characters), free text and log lines show it masked, as it was
written (``tests/personal_spellings.py``); what only looks like personal data (Feishu's ids,
amounts, dates) stays readable.
"""

import pytest

from hireops.core import masking
from hireops.core.masking import mask_personal_text
from hireops.core.scrubbing import scrub, scrub_text
from tests.personal_spellings import NOT_PERSONAL, SPELLINGS, leaks

# --- The patterns themselves ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS, ids=[s.text for s in SPELLINGS])
def test_each_spelling_is_masked_where_it_is_written_keeping_what_is_around_it(spelling):
    for text in (spelling.text, f"请联系{spelling.text}，谢谢", f"call ({spelling.text}) today"):
        masked = mask_personal_text(text)
        assert not leaks(masked, spelling.hidden), masked
        assert masked == text.replace(spelling.text, spelling.masked)
        assert scrub_text(text) == masked  # what a log line and an error report keep
        assert scrub({"note": text}) == {"note": masked}


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_ids_amounts_and_dates_stay_readable(text):
    for line in (text, f"order {text} done", f"订单{text}已完成", f"id: {text}, ", f"[{text}]"):
        assert mask_personal_text(line) == line
        assert scrub_text(line) == line


def test_a_line_of_everything_not_personal_is_kept_whole_and_its_personal_parts_masked():
    plain = " ".join(NOT_PERSONAL)
    mixed = " ".join(f"{a} {s.text}" for a, s in zip(NOT_PERSONAL, SPELLINGS, strict=False))
    assert mask_personal_text(plain) == plain
    masked = mask_personal_text(mixed)
    assert not leaks(masked)
    assert all(a in masked for a in NOT_PERSONAL[: len(SPELLINGS)])


def test_the_mask_keeps_the_country_code_and_the_width_as_written():
    assert mask_personal_text("+86 13911112222") == "+86 139****2222"
    assert mask_personal_text("电话：１３９１２３４５６７８") == "电话：１３９****５６７８"
    assert mask_personal_text("zhou.ba＠corp.example") == "z***＠corp.example"
    # A mobile used as an address is masked as an address, once.
    assert mask_personal_text("13912345678@qq.com") == "1***@qq.com"
    # What is masked already is left as it is: masking twice changes nothing.
    for spelling in SPELLINGS:
        assert mask_personal_text(spelling.masked) == spelling.masked


def test_a_line_without_a_digit_or_an_at_sign_is_looked_at_once(monkeypatch):
    """The common log line costs one scan for a digit or an at sign: the patterns are never
    tried on it (they are replaced here by ones that fail if they are)."""

    class Untouchable:
        def finditer(self, text):
            raise AssertionError(f"the patterns were tried on {text!r}")

        search = finditer

    for name in ("_FIND_ALL", "_FIND_NUMBERS", "_WIDE"):
        monkeypatch.setattr(masking, name, Untouchable())
    for line in ("GET /admin/orders/ status ok", "候选人已接受邀请，等待背调结果", "", "（全角括号）：完成"):
        assert mask_personal_text(line) == line


def test_a_line_with_full_width_punctuation_only_is_not_normalised(monkeypatch):
    """Chinese prose's full-width comma and colon are no part of a number: a line with digits
    and those alone is matched as it is, without a copy."""
    calls = []
    monkeypatch.setattr(
        masking, "_NORMAL", type("Table", (dict,), {"__missing__": lambda s, c: calls.append(c)})()
    )
    assert (
        mask_personal_text("订单 6931286400470354183 已完成，耗时 12 毫秒")
        == "订单 6931286400470354183 已完成，耗时 12 毫秒"
    )
    assert calls == []
