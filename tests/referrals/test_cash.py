"""Feishu's cash objects in whole hundredths, as every money trend adds them up."""

from referrals.accounts.cash import cash_hundredths


def test_each_amount_becomes_whole_hundredths_whatever_json_carried_it():
    cash = {"CNY": "12.50", "USD": 3, "HKD": 0.29, "JPY": "1e2"}
    assert dict(cash_hundredths(cash)) == {"CNY": 1250, "USD": 300, "HKD": 29, "JPY": 10000}


def test_an_amount_that_is_no_number_is_left_out_and_the_rest_kept():
    cash = {"CNY": "abc", "USD": "NaN", "EUR": "", "HKD": "1.00"}
    assert list(cash_hundredths(cash)) == [("HKD", 100)]


def test_no_cash_is_nothing():
    assert list(cash_hundredths(None)) == list(cash_hundredths({})) == []
