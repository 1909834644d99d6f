"""Session assignment: least-rated items, Williams trial order, seeded condition order."""

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mushra.design import (
    TrialPlan,
    condition_order,
    new_seed,
    pick_items,
    session_plan,
    trial_order,
    williams_row,
)

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS = ("reference", "anchor35", "anchor70", "sys_a", "sys_b", "sys_c")

# Chi-square critical values at p = 0.001: a fixed seed makes the test deterministic, the strict
# level makes it meaningful only against a real bias.
CHI2_999 = {2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52}

item_sets = st.lists(st.integers(0, 10_000), min_size=1, max_size=13, unique=True)


def chi_square(counts: Counter, categories: list, draws: int) -> float:
    expected = draws / len(categories)
    return sum((counts[c] - expected) ** 2 / expected for c in categories)


def adjacent_pairs(order: list[int]) -> list[tuple[int, int]]:
    return list(zip(order, order[1:], strict=False))


# --- pick_items -----------------------------------------------------------------------------------


def test_picking_takes_the_least_rated_items():
    load = {10: 5, 11: 0, 12: 3, 13: 1, 14: 7, 15: 2}
    assert sorted(pick_items(load, 3, random.Random(1))) == [11, 13, 15]


def test_picking_includes_all_items_of_the_lowest_load_before_any_higher():
    load = {1: 2, 2: 1, 3: 1, 4: 2, 5: 1}
    picked = pick_items(load, 4, random.Random(7))
    assert {2, 3, 5} <= set(picked)
    assert len(set(picked)) == 4


def test_ties_are_broken_by_the_rng():
    load = dict.fromkeys(range(20), 0)
    picks = {tuple(sorted(pick_items(load, 5, random.Random(seed)))) for seed in range(30)}
    assert len(picks) > 1  # not always the lowest ids


def test_picking_ignores_the_mappings_insertion_order():
    forward = {i: i % 3 for i in range(12)}
    backward = dict(reversed(list(forward.items())))
    assert pick_items(forward, 6, random.Random(3)) == pick_items(backward, 6, random.Random(3))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30),
    data=st.data(),
    sessions=st.integers(1, 40),
    seed=st.integers(0, 2**63 - 1),
    start=st.integers(0, 5),
)
def test_counts_per_item_stay_within_one_after_every_session(n, data, sessions, seed, start):
    trials = data.draw(st.integers(1, n), label="trials")
    load = dict.fromkeys(range(n), start)
    rng = random.Random(seed)
    for _ in range(sessions):
        picked = pick_items(load, trials, rng)
        assert len(set(picked)) == trials
        for item in picked:
            load[item] += 1
        assert max(load.values()) - min(load.values()) <= 1


# --- trial_order ----------------------------------------------------------------------------------


@given(n=st.integers(1, 14), offset=st.integers(0, 10_000))
def test_williams_rows_are_permutations(n, offset):
    assert sorted(williams_row(n, offset)) == list(range(n))


@given(items=item_sets.filter(lambda s: len(s) % 2 == 0), offset=st.integers(0, 10_000))
def test_even_n_sessions_balance_positions_and_adjacent_pairs_exactly_once(items, offset):
    n = len(items)
    orders = [trial_order(items, offset + s) for s in range(n)]
    positions = Counter((item, k) for order in orders for k, item in enumerate(order))
    pairs = Counter(pair for order in orders for pair in adjacent_pairs(order))
    assert positions == Counter({(i, k): 1 for i in items for k in range(n)})
    assert pairs == Counter({(a, b): 1 for a in items for b in items if a != b})


@given(items=item_sets.filter(lambda s: len(s) % 2 == 1), offset=st.integers(0, 10_000))
def test_odd_n_sessions_balance_positions_and_adjacent_pairs_twice_over_2n(items, offset):
    n = len(items)
    orders = [trial_order(items, offset + s) for s in range(2 * n)]
    positions = Counter((item, k) for order in orders for k, item in enumerate(order))
    pairs = Counter(pair for order in orders for pair in adjacent_pairs(order))
    assert positions == Counter({(i, k): 2 for i in items for k in range(n)})
    assert pairs == Counter({(a, b): 2 for a in items for b in items if a != b})


@given(items=item_sets, session_number=st.integers(0, 10_000), seed=st.integers(0, 1000))
def test_trial_order_depends_on_the_item_set_not_the_order_given(items, session_number, seed):
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    order = trial_order(shuffled, session_number)
    assert order == trial_order(sorted(items), session_number)
    assert sorted(order) == sorted(items)


def test_first_session_row_is_the_standard_williams_sequence():
    assert williams_row(6, 0) == [0, 1, 5, 2, 4, 3]
    assert williams_row(6, 1) == [1, 2, 0, 3, 5, 4]
    assert williams_row(3, 3) == [2, 1, 0]  # odd n: the mirror follows the square


# --- condition_order ------------------------------------------------------------------------------


@given(conditions=st.lists(st.text(min_size=1), min_size=1, max_size=12, unique=True))
def test_condition_order_is_a_permutation(conditions):
    order = condition_order(conditions, random.Random(0))
    assert isinstance(order, tuple)
    assert sorted(order) == sorted(conditions)


def test_condition_order_first_position_is_roughly_uniform():
    conditions = list(CONDITIONS[:5])
    rng = random.Random(20240517)
    draws = 4000
    first = Counter(condition_order(conditions, rng)[0] for _ in range(draws))
    assert chi_square(first, conditions, draws) < CHI2_999[len(conditions) - 1]


def test_condition_order_hits_every_permutation_about_equally():
    conditions = ["a", "b", "c"]
    rng = random.Random(99)
    draws = 4000
    orders = Counter(condition_order(conditions, rng) for _ in range(draws))
    perms = [(a, b, c) for a in "abc" for b in "abc" for c in "abc" if len({a, b, c}) == 3]
    assert set(orders) == set(perms)
    assert chi_square(orders, perms, draws) < CHI2_999[len(perms) - 1]


def test_derived_trial_orders_across_session_seeds_are_roughly_uniform():
    conditions = list(CONDITIONS[:4])
    load = {1: 0}
    draws = 4000
    first = Counter(
        session_plan(load=load, conditions=conditions, trials=1, session_number=0, seed=seed)[
            0
        ].conditions[0]
        for seed in range(draws)
    )
    assert chi_square(first, conditions, draws) < CHI2_999[len(conditions) - 1]


# --- session_plan ---------------------------------------------------------------------------------


def plan(seed: int = 1, **overrides) -> list[TrialPlan]:
    args = {
        "load": {i: i % 4 for i in range(100, 112)},
        "conditions": CONDITIONS,
        "trials": 6,
        "session_number": 3,
        "seed": seed,
    } | overrides
    return session_plan(**args)


@given(seed=st.integers(0, 2**63 - 1), session_number=st.integers(0, 1000))
def test_session_plan_is_reproducible(seed, session_number):
    assert plan(seed, session_number=session_number) == plan(seed, session_number=session_number)


@given(seed=st.integers(0, 2**63 - 1))
def test_session_plan_uses_least_rated_items_in_williams_order(seed):
    result = plan(seed)
    items = [trial.item for trial in result]
    assert sorted(items) == [100, 101, 104, 105, 108, 109]
    assert items == trial_order(items, 3)
    assert all(sorted(trial.conditions) == sorted(CONDITIONS) for trial in result)


@given(seeds=st.lists(st.integers(0, 2**63 - 1), min_size=2, max_size=2, unique=True))
def test_different_seeds_give_different_condition_orders(seeds):
    first, second = (plan(seed) for seed in seeds)
    assert [t.conditions for t in first] != [t.conditions for t in second]


def test_trials_within_a_session_get_their_own_condition_orders():
    orders = [trial.conditions for trial in plan(42, trials=12)]
    assert len(set(orders)) > 1


def test_session_plan_does_not_depend_on_the_hash_seed():
    code = (
        "import json; from mushra.design import session_plan;"
        "p = session_plan(load={i: 0 for i in range(8)}, conditions=['r', 'a', 'b', 'c', 'd'],"
        " trials=5, session_number=2, seed=123456789);"
        "print(json.dumps([[t.item, list(t.conditions)] for t in p]))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("0", "1", "4242")
    }
    assert len(outputs) == 1
    here = session_plan(
        load=dict.fromkeys(range(8), 0),
        conditions=["r", "a", "b", "c", "d"],
        trials=5,
        session_number=2,
        seed=123456789,
    )
    assert json.loads(outputs.pop()) == [[t.item, list(t.conditions)] for t in here]


def test_new_seed_is_a_non_negative_63_bit_integer():
    seeds = {new_seed() for _ in range(50)}
    assert all(0 <= s < 2**63 for s in seeds)
    assert len(seeds) > 1


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trials": 13}, "cannot pick 13 trials from only 12 items"),
        ({"trials": 0}, "number of trials must be at least 1"),
        ({"trials": 2.0}, "number of trials must be a whole number"),
        ({"conditions": ["a", "b", "a"]}, "condition keys must be unique"),
        ({"conditions": []}, "at least one condition"),
        ({"conditions": ["a", ""]}, "non-empty strings"),
        ({"conditions": "abc"}, "not one string"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"seed": "7"}, "seed must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        ({"session_number": -1}, "session number must be at least 0"),
        ({"load": {1: -1, 2: 0}, "trials": 1}, "rating count of item 1 must be at least 0"),
        ({"load": {}, "trials": 1}, "from only 0 items"),
    ],
)
def test_bad_input_is_refused_in_plain_words(overrides, message):
    with pytest.raises(ValueError, match=message):
        plan(**overrides)


def test_trial_order_refuses_duplicate_or_missing_items():
    with pytest.raises(ValueError, match="items must be distinct"):
        trial_order([1, 2, 2], 0)
    with pytest.raises(ValueError, match="at least one item"):
        trial_order([], 0)
