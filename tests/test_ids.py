"""Ids and the clock: ObjectId layout, ordering, and a clock that only moves forward."""

from __future__ import annotations

import pytest

from mailgun_mock.base.clock import Clock
from mailgun_mock.base.ids import ObjectIds


def test_object_id_layout() -> None:
    """An ObjectId is 4 bytes of seconds, 5 fixed bytes, then a 3-byte counter, in hex."""
    ids = ObjectIds(machine=b"\x01\x02\x03\x04\x05", counter_start=0xFFFFFE)
    assert ids.new(1329311011.9) == "4f3bad23" + "0102030405" + "fffffe"
    assert ids.new(1329311011) == "4f3bad23" + "0102030405" + "ffffff"
    assert ids.new(1329311011).endswith("000000")  # the counter wraps at 3 bytes


def test_object_ids_are_unique_and_ordered_within_a_second() -> None:
    """Ids made in the same second differ and sort in creation order (until the counter wraps)."""
    ids = ObjectIds(counter_start=0)
    made = [ids.new(1_700_000_000) for _ in range(1000)]
    assert len(set(made)) == 1000
    assert made == sorted(made)


def test_clock_advances_and_resets() -> None:
    """advance() moves the clock ahead of its source; reset() returns to it."""
    clock = Clock(source=lambda: 1000.0)
    assert clock.advance(60) == 1060.0
    assert (clock.now(), clock.offset) == (1060.0, 60)
    clock.reset()
    assert clock.now() == 1000.0


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_clock_refuses_to_go_back(seconds: float) -> None:
    """A negative, NaN or infinite advance raises ValueError and changes nothing."""
    clock = Clock(source=lambda: 1000.0)
    with pytest.raises(ValueError):
        clock.advance(seconds)
    assert clock.now() == 1000.0
