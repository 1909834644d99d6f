"""Attention checks (issue 14): catch trials the scientist switches on, scored as they are saved.

With ``ListeningTest.attention_checks = k`` every session gets k catch trials among its real ones
(``sessions._allocate``). A catch trial looks like any trial: one of the session's utterances
with every condition of the test in a seeded order, but one system under test (a seeded choice)
plays a clearly degraded copy of its own stimulus (``synth_workers.audio.catch``: band-limited to
1 kHz, noise at 0 dB SNR, loudness-matched), so a catch trial's signals have exactly the
durations of an ordinary trial of its utterance.
Its ratings are checked like any trial's but never stored as ratings (they are not part of the
design and would pollute the analysis); one ``AttentionCheck`` row keeps the copy's score, the
hidden reference's score and the verdict.

**The rule.** A check is passed when the copy is rated at least ``MARGIN`` = 20 points below the
hidden reference (``catch ≤ reference − 20``). An attentive listener always passes: the copy is
far worse than the 3.5 kHz low anchor, which attentive listeners put in the "bad"/"poor" bands
(≤ 40), while the hidden reference gets ~90-100; even one who misses the hidden reference and
rates it 60 still clears the margin by far. A listener who is not listening does not: one who
gives every slider the same score (or pushes them all to 100) fails every check, and one who sets
the sliders at random (independent uniform scores) passes a check with probability
0.8² / 2 = 32 %, so all of three checks with probability 3 % and all of five with 0.3 %. The
comparison is relative to the hidden reference rather than an absolute cut-off so that a listener
who uses only the top of the scale is judged by the order of their scores, as MUSHRA's own
screening rules are.

**The screening.** ``mushra.analysis.screening`` excludes a listener who failed more than 15 % of
their checks (any failure when they had up to six), logged beside the BS.1534-3 rules.

**Placement** (``catch_plan``): never the practice trial and never before the first real trial
(a listener meets the real task first); the real trials are cut into k runs of (nearly) equal
length and one catch trial follows a seeded trial of each run, so checks are spread over the
session rather than bunched. Each is on one of the session's own utterances (distinct ones while
there are enough), never the utterance of a real trial just before or after it (where the
session has another).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mushra import design

MARGIN = 20.0  # points on the 0-100 scale the copy must be below the hidden reference
NEEDS_REFERENCE = (
    "attention checks need a hidden reference condition (the catch trial's degraded copy must "
    "be rated below it): add one or set attention checks to 0"
)
NEEDS_SYSTEM = (
    "attention checks need a system under test (its signal plays the degraded copy in a catch "
    "trial): add one or set attention checks to 0"
)
_RNG_SLOT = -100  # trial_rng positions below the practice trial's (-1, -2): never a real one


def passed(catch_score: float, reference_score: float) -> bool:
    """The verdict of one check: the copy rated at least ``MARGIN`` below the hidden reference."""
    return catch_score <= reference_score - MARGIN


def problems(roles: Mapping[str, str], checks: int, reference: bool = True) -> list[str]:
    """Why a test with these conditions (key → role) cannot run ``checks`` attention checks;
    ``reference``: its copy is rated against the hidden reference (MUSHRA; ACR's trap clips
    name their answer)."""
    if not checks:
        return []
    found = set(roles.values())
    out = [] if "reference" in found or not reference else [NEEDS_REFERENCE]
    return out if "system" in found else [*out, NEEDS_SYSTEM]


@dataclass(frozen=True)
class CatchTrial:
    after: int  # placed after this many real trials (1 .. number of real trials)
    plan: design.TrialPlan  # its utterance and every condition in a seeded order
    catch_key: str  # the condition (a system under test) that plays the degraded copy


def catch_plan(
    real: Sequence[design.TrialPlan], roles: Mapping[str, str], checks: int, seed: int
) -> list[CatchTrial]:
    """The session's ``checks`` catch trials, reproducible from its seed (see the docstring)."""
    if not checks or not real:
        return []
    rng = design.trial_rng(seed, _RNG_SLOT)
    n = len(real)
    systems = [key for key, role in roles.items() if role == "system"]
    conditions = list(roles)
    pool: list[int] = []
    out = []
    for i in range(checks):
        lo = 1 + i * n // checks
        hi = max(lo, (i + 1) * n // checks)
        after = rng.randint(lo, min(hi, n))
        item = _utterance(real, after, pool, rng)
        order = design.condition_order(conditions, design.trial_rng(seed, _RNG_SLOT - 1 - i))
        out.append(CatchTrial(after, design.TrialPlan(item, order), rng.choice(systems)))
    return out


def _utterance(
    real: Sequence[design.TrialPlan], after: int, pool: list[int], rng: random.Random
) -> int:
    """One of the session's utterances, not that of a neighbouring real trial, unused first."""
    if not pool:
        pool.extend(sorted({p.item for p in real}))
        rng.shuffle(pool)
    neighbours = {p.item for p in real[after - 1 : after + 1]}
    for i, item in enumerate(pool):
        if item not in neighbours:
            return pool.pop(i)
    return pool.pop(0)  # a session of one or two utterances: nothing else to choose


def interleave(plan: list, catches: list[CatchTrial], practice: bool) -> list[tuple]:
    """(trial plan, catch key or None) in session order: each catch trial after its real one."""
    head = plan[:1] if practice else []
    real = plan[1:] if practice else plan
    after: dict[int, list[CatchTrial]] = {}
    for c in catches:
        after.setdefault(c.after, []).append(c)
    out = [(p, None) for p in head]
    for number, p in enumerate(real, start=1):
        out.append((p, None))
        out += [(c.plan, c.catch_key) for c in after.get(number, [])]
    return out
