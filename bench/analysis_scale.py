"""The whole MUSHRA analysis at crowdsourcing scale, against just reading the ratings file.

    .venv/bin/python bench/analysis_scale.py [--listeners 2000] [--items 50] [--conditions 10]
                                             [--mixed-ratings 100000] [--statsmodels-ratings 5000]

Synthetic ratings (mushra.analysis.synthetic: listener, item and noise components, the hidden
reference near 100) are written to a tidy CSV: 2,000 listeners × 50 items × 10 conditions =
1,000,000 ratings by default. In the same run:

  floor:  pandas.read_csv of that file, nothing else.
  ours:   read_ratings (read + validation) and analyze(): BS.1534-3 screening, descriptives with
          t and 10,000-resample listener-bootstrap CIs, Wilcoxon on all 28 pairs of systems with
          Holm, Friedman on complete blocks, the crossed mixed model, one gap closure.

Then the mixed model alone on --mixed-ratings ratings (and the confirmatory model with
listener×condition and item×condition terms on its systems), and, as a peer, statsmodels'
MixedLM with the same crossed random intercepts on --statsmodels-ratings ratings next to ours on
the same data (statsmodels grows about as n^2.3: DESIGN.md §6). Where R with lme4 is installed
(Debian: r-cran-lmertest), lme4's lmer fits both mixed models on the same --mixed-ratings data
in a subprocess, timed inside R around lmer() alone (REML, its default optimiser); ours include
their Satterthwaite degrees of freedom, lmer's do not. Prints a table and, last, lmer/ours per
model and ours/floor.
"""

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mushra.analysis import Spec, analyze, mixed_model, read_ratings, tidy
from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.synthetic import mushra_ratings


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def statsmodels_fit(df: pd.DataFrame):
    import statsmodels.api as sm

    data = df.assign(one=1)
    model = sm.MixedLM.from_formula(
        "score ~ C(condition, Treatment('reference'))",
        groups="one",
        re_formula="0",
        vc_formula={"listener": "0 + C(listener)", "item": "0 + C(item)"},
        data=data,
    )
    return model.fit(reml=True)


LMER = """
suppressMessages(library(lme4))
df <- read.csv(commandArgs(TRUE)[1])
df$condition <- relevel(factor(df$condition), ref = "reference")
tested <- droplevels(df[!(df$condition %in% c("reference", "anchor")), ])
t1 <- system.time(lmer(score ~ condition + (1|listener) + (1|item), data = df))[["elapsed"]]
t2 <- system.time(suppressMessages(lmer(score ~ condition + (1|listener) + (1|item) +
    (1|listener:condition) + (1|item:condition), data = tested)))[["elapsed"]]
cat(t1, t2, "\n")
"""


def lmer_seconds(df: pd.DataFrame) -> tuple[float, float] | None:
    """lmer's fit times for both models on ``df``, or None without R and lme4."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ratings.csv"
        df.to_csv(path, index=False)
        proc = subprocess.run(
            ["Rscript", "-e", LMER, str(path)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        return None
    first, second = proc.stdout.split()[:2]
    return float(first), float(second)


def design(n_ratings: int, n_items: int, n_conditions: int) -> tuple[int, int]:
    """Listeners for about n_ratings ratings on a complete grid of the given items/conditions."""
    return max(2, round(n_ratings / (n_items * n_conditions))), n_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=2000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--bootstrap", type=int, default=10_000)
    parser.add_argument("--mixed-ratings", type=int, default=100_000)
    parser.add_argument("--statsmodels-ratings", type=int, default=5_000)
    args = parser.parse_args()

    df = mushra_ratings(args.listeners, args.items, args.conditions, seed=1)
    systems = sorted(set(df["condition"]) - {"reference", "anchor"})
    spec = Spec(
        low_anchor="anchor", gaps=((systems[-1], systems[0], "reference"),), n_boot=args.bootstrap
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ratings.csv"
        df.to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        t_floor, _ = timed(pd.read_csv, path)
        t_read, rated = timed(read_ratings, path)
    t_analyze, result = timed(analyze, rated, spec, validated=True)  # as the CLI: read once
    data = result.to_dict()
    t_ours = t_read + t_analyze

    # The models at --mixed-ratings on the same shape of test (items × conditions), fewer
    # listeners: the confirmatory model's cost grows with items × conditions, not listeners.
    listeners, items = design(args.mixed_ratings, args.items, args.conditions)
    mixed_df = tidy(mushra_ratings(listeners, items, args.conditions, seed=2))
    t_mixed, _ = timed(mixed_model, mixed_df, "reference")
    tested = sorted(set(mixed_df["condition"]) - {"reference", "anchor"})
    t_full, _ = timed(mixed_model_full, mixed_df, tested, tested[0])
    lmer = lmer_seconds(mixed_df)
    listeners, items = design(args.statsmodels_ratings, 10, 5)
    small = tidy(mushra_ratings(listeners, items, 5, seed=3))
    t_small_ours, ours_small = timed(mixed_model, small, "reference")
    t_small_sm, sm_small = timed(statsmodels_fit, small)
    sm_effects = np.asarray(sm_small.fe_params)[1:]
    ours_effects = np.array([e["estimate"] for e in ours_small["effects"]])
    order = np.argsort([str(n) for n in sm_small.fe_params.index[1:]])  # same condition order

    n = len(df)
    print(
        f"{n:,} ratings ({args.listeners} listeners × {args.items} items × "
        f"{args.conditions} conditions), CSV {size_mb:.0f} MB, {args.bootstrap} resamples"
    )
    print(f"{'step':<62}{'seconds':>10}")
    print(f"{'floor: pandas.read_csv':<62}{t_floor:>10.2f}")
    print(f"{'ours: read_ratings (read + validate)':<62}{t_read:>10.2f}")
    print(f"{'ours: analyze (screen, describe, bootstrap, 28 pairs, …)':<62}{t_analyze:>10.2f}")
    print(f"{'ours: total':<62}{t_ours:>10.2f}")
    print(
        f"  screening excluded {len(data['screening']['excluded'])} listeners; "
        f"{len(data['pairwise'])} pairs; Friedman on {data['omnibus']['n_blocks']:,} blocks"
    )
    print(f"{'mixed model alone, ' + f'{len(mixed_df):,} ratings':<62}{t_mixed:>10.2f}")
    n_full = int(mixed_df["condition"].isin(tested).sum())
    label_full = f"full model (+ listener×cond., item×cond.), {n_full:,} ratings"
    print(f"{label_full:<62}{t_full:>10.2f}")
    if lmer is not None:
        print(f"{'lme4 lmer, (1|listener) + (1|item), same data':<62}{lmer[0]:>10.2f}")
        print(f"{'lme4 lmer, full model, same data':<62}{lmer[1]:>10.2f}")
    else:
        print("  (no R with lme4 here: lmer not timed)")
    label = f"{len(small):,} ratings"
    print(f"{'mixed model, ours, ' + label:<62}{t_small_ours:>10.2f}")
    print(f"{'mixed model, statsmodels MixedLM (crossed VC), ' + label:<62}{t_small_sm:>10.2f}")
    diff = np.max(np.abs(sm_effects[order] - ours_effects))
    print(f"  largest difference between the two fits' effects: {diff:.1e} points")
    print(f"statsmodels/ours mixed-model time at {label}: {t_small_sm / t_small_ours:.0f}")
    if lmer is not None:
        print(f"lmer/ours, default model at {len(mixed_df):,} ratings: {lmer[0] / t_mixed:.1f}")
        print(f"lmer/ours, full model at {n_full:,} ratings: {lmer[1] / t_full:.1f}")
    print(f"full analysis/read_csv time ratio: {t_ours / t_floor:.2f}")


if __name__ == "__main__":
    main()
