"""Admission at the kiosk relay (`juki.nodes.kiosk_admission`): at most `slots` requests in flight
per municipality, the others told their place in line, first come first served."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.core.settings import DEFAULT_KIOSK_SLOTS, Settings, SettingsError
from juki.nodes.kiosk_admission import MAX_RETRY_S, MIN_RETRY_S, KioskAdmission

LG, OTHER = "132250", "142050"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_requests_beyond_the_slots_wait_in_the_order_they_came() -> None:
    gate = KioskAdmission(1, now=Clock())
    assert gate.enter(LG, "a").admitted
    b, c = gate.enter(LG, "b"), gate.enter(LG, "c")
    assert (b.admitted, b.position, b.first) == (False, 1, True)
    assert (c.admitted, c.position) == (False, 2)
    assert gate.enter(OTHER, "x").admitted  # another municipality has its own slots
    gate.leave(LG, 0.4)
    again = gate.enter(LG, "c")  # c knocks first, but b came first
    assert (again.admitted, again.position, again.first) == (False, 1, False)  # after b
    assert gate.enter(LG, "b").admitted
    assert (gate.in_flight(LG), gate.waiting(LG)) == (1, 1)


def test_a_request_that_stops_asking_loses_its_place_and_the_line_is_bounded() -> None:
    clock = Clock()
    gate = KioskAdmission(1, patience=5.0, max_line=2, now=clock)
    assert gate.enter(LG, "a").admitted
    assert gate.enter(LG, "gone").position == 1
    assert gate.enter(LG, "b").position == 2
    full = gate.enter(LG, "c")
    assert (full.admitted, full.position, full.first) == (False, 3, False)  # not kept
    clock.t = 4.0
    assert gate.enter(LG, "b").position == 2
    clock.t = 6.0  # "gone" last asked at 0: dropped; b asked at 4: kept
    assert gate.enter(LG, "b").position == 1
    gate.leave(LG, 1.0)
    assert gate.enter(LG, "b").admitted


def test_when_to_ask_again_follows_the_time_requests_take_within_bounds() -> None:
    gate = KioskAdmission(2, now=Clock())
    assert gate.enter(LG, "a").admitted and gate.enter(LG, "b").admitted
    for _ in range(30):  # requests take 0.2 s now
        gate.leave(LG, 0.2)
        assert gate.enter(LG, "a").admitted
    turns = [gate.enter(LG, f"w{i}") for i in range(40)]
    assert turns[0].retry_after == pytest.approx(0.1, rel=0.05)  # next of two slots: 0.2 / 2
    assert all(MIN_RETRY_S <= t.retry_after <= MAX_RETRY_S for t in turns)
    assert turns[-1].retry_after == MAX_RETRY_S
    with pytest.raises(ValueError, match="slots"):
        KioskAdmission(0)


def test_the_next_in_line_is_held_and_admitted_the_moment_a_slot_frees() -> None:
    looks = threading.Semaphore(0)

    def now() -> float:  # each look at the line asks the time once
        looks.release()
        return 0.0

    gate = KioskAdmission(1, now=now)
    assert gate.enter(LG, "a").admitted
    assert gate.enter(LG, "b").position == 1
    while looks.acquire(blocking=False):
        pass
    turns: list[bool] = []
    knock = threading.Thread(target=lambda: turns.append(gate.enter(LG, "b", hold=60).admitted))
    knock.start()
    assert looks.acquire(timeout=60)  # it looked, found no slot, and is held (not told)
    assert not turns
    gate.leave(LG, 0.1)
    knock.join(timeout=60)
    assert turns == [True] and gate.in_flight(LG) == 1
    # one further back is not held: told its place at once, however long the hold
    assert gate.enter(LG, "c").position == 1
    assert gate.enter(LG, "d", hold=60).position == 2


OPS = st.lists(
    st.tuples(st.sampled_from(["enter", "leave", "tick"]), st.integers(0, 7)), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(slots=st.integers(1, 3), ops=OPS)
def test_never_more_in_flight_than_slots_and_no_one_is_overtaken(
    slots: int, ops: list[tuple[str, int]]
) -> None:
    clock = Clock()
    gate = KioskAdmission(slots, patience=3.0, now=clock)
    inside: list[str] = []
    queued: dict[str, int] = {}  # id -> its turn in the order of arrival (reset when dropped)
    last: dict[str, float] = {}
    arrivals = 0
    for op, n in ops:
        rid = f"r{n}"
        if op == "tick":
            clock.t += 1.0
        elif op == "leave" and inside:
            gate.leave(LG, 0.5)
            inside.pop(0)
        elif op == "enter" and rid not in inside:
            for q in [q for q in queued if clock.t - last[q] > 3.0]:
                del queued[q]  # stopped asking: lost its place
            turn = gate.enter(LG, rid)
            last[rid] = clock.t
            if turn.admitted:
                mine = queued.get(rid, arrivals)
                ahead = [q for q, turn_no in queued.items() if turn_no < mine]
                # those ahead still have a slot each: no one who came first is left out
                assert len(ahead) < slots - len(inside), f"{rid} overtook {ahead}"
                queued.pop(rid, None)
                inside.append(rid)
            else:
                if rid not in queued:
                    queued[rid] = arrivals
                    arrivals += 1
                assert turn.position >= 1 and turn.retry_after > 0
        assert gate.in_flight(LG) == len(inside) <= slots


@given(st.text(max_size=6))
def test_a_bad_slot_count_in_the_environment_is_refused_by_name(raw: str) -> None:
    number = raw.strip().isascii() and raw.strip().isdigit()  # '²' is a digit, not a number
    if number and 1 <= int(raw.strip()) <= 64:
        assert Settings.from_env({"JUKI_KIOSK_SLOTS": raw}).kiosk_slots == int(raw.strip())
    elif raw.strip():
        with pytest.raises(SettingsError, match="JUKI_KIOSK_SLOTS"):
            Settings.from_env({"JUKI_KIOSK_SLOTS": raw})
    else:
        assert Settings.from_env({"JUKI_KIOSK_SLOTS": raw}).kiosk_slots == DEFAULT_KIOSK_SLOTS
