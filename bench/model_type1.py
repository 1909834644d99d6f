"""Type-I error of the confirmatory model's tests with few listeners: Wald z vs Satterthwaite t.

    .venv/bin/python bench/model_type1.py [--experiments 1000] [--listeners 4,8,12] [--jobs 2]

Experiments under the null: three systems with the same true mean, every listener rating every
item, with a large listener × system variance (the case where treating the variance components
as known fails). Each is fitted with mushra.analysis.lmm_interactions (the confirmatory model);
for each of its two effects the test rejects at 5 % by Wald z (estimate/SE against the normal,
what the model reported before issue 15) and by its Satterthwaite t (what it reports now). Prints
the rejection rates with their Monte-Carlo standard error (as if the tests were independent; the
two effects of one experiment share its baseline, so the true one is a little larger) and, last,
Wald/Satterthwaite per size.
Aim: Satterthwaite within Monte-Carlo error of 5 %.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.lmm_interactions import mixed_model_full

ITEMS = 8
SDS = {"listener": 8.0, "item": 4.0, "listener:system": 10.0, "item:system": 3.0, "residual": 12.0}
SYSTEMS = ["sys0", "sys1", "sys2"]


def experiment(args: tuple[int, int]) -> tuple[int, int, int]:
    """(effects tested, Wald z rejections, Satterthwaite t rejections) of one null experiment."""
    listeners, seed = args
    rng = np.random.default_rng(seed)
    k = len(SYSTEMS)
    lis, item, cond = (g.ravel() for g in np.indices((listeners, ITEMS, k)))
    score = (
        60.0
        + rng.normal(0, SDS["listener"], listeners)[lis]
        + rng.normal(0, SDS["item"], ITEMS)[item]
        + rng.normal(0, SDS["listener:system"], (listeners, k))[lis, cond]
        + rng.normal(0, SDS["item:system"], (ITEMS, k))[item, cond]
        + rng.normal(0, SDS["residual"], len(lis))
    )
    df = pd.DataFrame(
        {
            "listener": [f"L{x}" for x in lis],
            "item": [f"i{x}" for x in item],
            "condition": [SYSTEMS[c] for c in cond],
            "score": score,
        }
    )
    effects = mixed_model_full(df, SYSTEMS, SYSTEMS[0])["effects"]
    wald = sum(2 * stats.norm.sf(abs(e["estimate"] / e["se"])) < 0.05 for e in effects)
    satterthwaite = sum(e["p"] < 0.05 for e in effects)
    return len(effects), int(wald), int(satterthwaite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--listeners", default="4,8,12")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(x) for x in args.listeners.split(",")]
    print(
        f"null experiments: {len(SYSTEMS)} systems × {ITEMS} items, SDs {SDS}; "
        f"{args.experiments} per size"
    )
    print(f"{'listeners':>9} {'tests':>6} {'Wald z':>8} {'Satterthwaite t':>16} {'MC SE':>6}")
    ratios = []
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("fork")) as pool:
        for listeners in sizes:
            seeds = [(listeners, args.seed * 10**6 + listeners * 10**4 + i)
                     for i in range(args.experiments)]  # fmt: skip
            out = np.array(list(pool.map(experiment, seeds, chunksize=20)))
            tests, wald, satt = out.sum(axis=0)
            se = np.sqrt(0.05 * 0.95 / tests)
            print(
                f"{listeners:>9} {tests:>6} {wald / tests:>8.1%} {satt / tests:>16.1%} {se:>6.1%}"
            )
            ratios.append((listeners, wald / max(satt, 1)))
    print(f"({time.perf_counter() - start:.0f} s)")
    for listeners, ratio in ratios:
        print(f"Wald/Satterthwaite rejection rate at {listeners} listeners: {ratio:.2f}")


if __name__ == "__main__":
    main()
