"""What each new listening session gets: which items, in which order, with which condition order.

Why this shape:

* Items: a crowdsourced test rarely gets the same number of listeners per item by luck, so each new
  session takes the items with the fewest ratings so far (sessions in progress count, so a burst of
  concurrent sessions spreads out). From equal loads this keeps every item's count within one of
  every other's: a balanced incomplete design.
* Trial order: a Williams design (balanced Latin square) over the picked items sorted by id, one row
  per session number. Across consecutive sessions each item sits in each position equally often and
  each item follows each other item equally often, so neither position nor first-order carry-over
  (rating an item just after another) is confounded with the item.
* Condition order: shuffled per trial per session, because the listener must not learn which
  slider hides the reference (ITU-R BS.1534-3). The shuffle comes from the seed stored with the
  session, and per-trial generators are derived from ``f"{seed}:{position}"`` (seeded via SHA-512
  by ``random``), never from ``hash()``, so a session replays identically in any process.

Pure: plain data in, plain data out; no Django. Limits on the number of signals per trial belong
to the caller.
"""

import itertools
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SEED_BITS = 63  # fits a signed 64-bit database column


@dataclass(frozen=True)
class TrialPlan:
    item: int  # the item (utterance id)
    conditions: tuple[str, ...]  # condition keys in the order shown for this trial


def new_seed() -> int:
    """A fresh seed to store with a session; everything else about the session follows from it."""
    return secrets.randbits(SEED_BITS)


def _require_int(value: object, name: str, minimum: int) -> int:
    # bool is an int subclass; True as a trial count or seed is a bug, not a value.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def pick_items(load: Mapping[int, int], trials: int, rng: random.Random) -> list[int]:
    """The `trials` items with the fewest ratings; ties broken at random by `rng`.

    `load` maps item -> ratings so far, sessions in progress included. The result is in
    least-loaded-first order; `trial_order` decides the order shown.
    """
    _require_int(trials, "the number of trials", 1)
    if trials > len(load):
        raise ValueError(f"cannot pick {trials} trials from only {len(load)} items")
    for item, count in load.items():
        _require_int(item, "an item id", 0)
        _require_int(count, f"the rating count of item {item}", 0)
    # Sort first so the result does not depend on the mapping's insertion order, shuffle for
    # random tie-breaking, then a stable sort by load keeps the shuffled order within ties.
    candidates = sorted(load)
    rng.shuffle(candidates)
    candidates.sort(key=load.__getitem__)
    return candidates[:trials]


def williams_row(n: int, row: int) -> list[int]:
    """Row `row` of a Williams design on 0..n-1: n rows for even n, 2n (square + mirror) for odd n.

    The first row is 0, 1, n-1, 2, n-2, ...; row r adds r mod n to it. For odd n one square
    balances carry-over only together with its mirror image, hence the 2n rows.
    """
    _require_int(n, "the number of items", 1)
    _require_int(row, "the row", 0)
    first = [0] + [(j + 1) // 2 if j % 2 else n - j // 2 for j in range(1, n)]
    rows = n if n % 2 == 0 else 2 * n
    r = row % rows
    result = [(value + r) % n for value in first]
    return result if r < n else result[::-1]


def trial_order(items: Sequence[int], session_number: int) -> list[int]:
    """The items in the order of row `session_number` of a Williams design over the sorted items.

    Over n consecutive session numbers (2n for odd n) every item appears in every position equally
    often and every ordered pair of adjacent items occurs equally often.
    """
    _require_int(session_number, "the session number", 0)
    if not items:
        raise ValueError("a session needs at least one item")
    ordered = sorted(items)
    if len(set(ordered)) != len(ordered):
        raise ValueError("items must be distinct")
    return [ordered[k] for k in williams_row(len(ordered), session_number)]


def _check_conditions(conditions: Sequence[str]) -> None:
    if isinstance(conditions, str):
        raise ValueError("conditions must be a sequence of condition keys, not one string")
    if not conditions:
        raise ValueError("a trial needs at least one condition")
    if not all(isinstance(key, str) and key for key in conditions):
        raise ValueError("condition keys must be non-empty strings")
    if len(set(conditions)) != len(conditions):
        raise ValueError("condition keys must be unique")


def condition_order(conditions: Sequence[str], rng: random.Random) -> tuple[str, ...]:
    """A uniformly random permutation of `conditions` (Fisher-Yates via `rng.shuffle`)."""
    _check_conditions(conditions)
    shuffled = list(conditions)
    rng.shuffle(shuffled)
    return tuple(shuffled)


def trial_rng(seed: int, position: int) -> random.Random:
    """The generator for the trial at `position`, derived from the session seed by string seeding.

    ``random.Random(str)`` hashes the string with SHA-512, so this does not depend on
    PYTHONHASHSEED or the process.
    """
    return random.Random(f"{seed}:{position}")


def session_plan(
    *,
    load: Mapping[int, int],
    conditions: Sequence[str],
    trials: int,
    session_number: int,
    seed: int,
) -> list[TrialPlan]:
    """Everything a new session needs, reproducible from its arguments.

    Items come from `pick_items` with ``random.Random(seed)``, ordered by `trial_order`; each
    trial's conditions are shuffled by `trial_rng(seed, position)`.
    """
    _require_int(seed, "the seed", 0)
    _check_conditions(conditions)
    items = pick_items(load, trials, random.Random(seed))
    ordered = trial_order(items, session_number)
    return [
        TrialPlan(item=item, conditions=condition_order(conditions, trial_rng(seed, position)))
        for position, item in enumerate(ordered)
    ]


def pair_trials(
    plan: Sequence[TrialPlan], conditions: Sequence[str], session_number: int, seed: int
) -> list[TrialPlan]:
    """A paired-comparison session (CMOS, A/B, ABX): each planned item as one trial per pair of
    `conditions`, A and B in an order balanced across sessions, all trials in a seeded order.

    Which of a pair plays first flips with the session number (and with the item and the pair,
    so one session hears each order about equally often): over two consecutive sessions every
    pair of every item is heard both ways, so a preference for whichever comes first cancels.
    The trials are shuffled rather than grouped by item, so one sentence does not come back
    several times in a row."""
    _require_int(session_number, "the session number", 0)
    _check_conditions(conditions)
    if len(conditions) < 2:
        raise ValueError("a paired comparison needs at least two conditions")
    pairs = list(itertools.combinations(conditions, 2))
    trials = [
        TrialPlan(item=p.item, conditions=(a, b) if (session_number + i + j) % 2 == 0 else (b, a))
        for i, p in enumerate(plan)
        for j, (a, b) in enumerate(pairs)
    ]
    random.Random(f"{seed}:pairs").shuffle(trials)
    return trials
