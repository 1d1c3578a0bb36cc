"""Sharing a tick's work between tenants (hireops.tenants.claims): each within its room, the
small ones served whole, the rest split evenly, interleaved tenant by tenant."""

from hireops.tenants.claims import fair_shares, interleave


def test_each_tenant_gets_its_room_when_there_is_enough():
    assert fair_shares({"a": 5, "b": 3}, 100) == {"a": 5, "b": 3}


def test_what_small_tenants_leave_goes_to_the_big_ones():
    assert fair_shares({"big": 500, "x": 2, "y": 3, "huge": 900}, 105) == {
        "big": 50,
        "huge": 50,
        "x": 2,
        "y": 3,
    }


def test_a_remainder_too_small_to_share_rotates():
    room = {"a": 9, "b": 9, "c": 9}
    assert fair_shares(room, 2, start=0) == {"a": 1, "b": 1}
    assert fair_shares(room, 2, start=1) == {"b": 1, "c": 1}
    assert fair_shares(room, 2, start=2) == {"c": 1, "a": 1}
    assert sum(fair_shares(room, 8, start=5).values()) == 8


def test_nothing_to_share_or_no_room():
    assert fair_shares({"a": 5}, 0) == {}
    assert fair_shares({"a": 5}, -3) == {}  # more already out than allowed
    assert fair_shares({"a": 0, "b": -2}, 10) == {}
    assert fair_shares({}, 10) == {}


def test_interleave_takes_one_of_each_in_turn():
    assert interleave([[1, 2, 3], [4], [5, 6]]) == [1, 4, 5, 2, 6, 3]
    assert interleave([]) == []
