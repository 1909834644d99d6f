"""Coverage of the analysis' 95 % intervals on simulated MUSHRA tests whose truth is known.

    .venv/bin/python bench/ci_coverage.py [--experiments 1000] [--bootstrap 1000] [--items 10]
                                          [--listeners 8 12 20 40] [--mode both] [--jobs 2]
                                          [--seed 0]

Each experiment is a complete listener × item × condition test drawn from the model of
mushra.analysis.synthetic plus a listener × condition term: score = condition mean + listener
(SD 8) + item (SD 5) + listener × condition (SD 6) + residual (SD 10), clipped to 0–100 (not
rounded, so the truth is exact); the hidden reference is 100 − |N(0, 4)| and the anchor has mean
20. The true condition means are E[clip(·)] in closed form: over listeners for the drawn items
("items fixed": one set of items per cell, every experiment re-rates them) or over listeners and
items ("items redrawn": each experiment draws new items, so they are a sample too).

In each experiment the analysis' own code (BootstrapMeans, describe, gap_closure) gives, for the
means of the three systems and the anchor: the t interval on per-listener means; the percentile
listener bootstrap reported before issue 15 ("pct, old"); plain BCa; expanded BCa (the new
``ci95_bootstrap``); and expanded BCa of the two-way (listener × item) bootstrap
(``--items-random``); and for gap closure G (best system vs worst, reference as top) and
relative improvement R the old percentile, the new and the two-way intervals. Coverage is the
share of intervals that contain the truth (mean coverage over the four conditions).
--bootstrap defaults to 1,000 resamples, not the analysis' 10,000, to keep the run to about three
minutes on two cores; the Monte Carlo error of one figure is at most ±1.4 points (2 SE) at 1,000
experiments (a little less for the pooled condition means). Prints a table and, last, one verdict
line per interval against the aim, ≥ 94 % from 12 listeners up, in the setting the interval is
for: the listener bootstrap and the t interval treat the items as fixed (what was rated is what
is generalised over), the two-way bootstrap treats them as a sample; "within MC error" means the
lowest figure is below 94 % by less than 2 SE.
"""

import argparse
import os
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one process per core instead
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from mushra.analysis.bootstrap import BootstrapMeans, percentile_ci  # noqa: E402
from mushra.analysis.descriptives import describe  # noqa: E402
from mushra.analysis.gaps import _g, _r, gap_closure  # noqa: E402
from mushra.analysis.intervals import bca_interval  # noqa: E402

NAMES = ["reference", "sys01", "sys02", "sys03", "anchor"]
MEANS = np.array([np.nan, 45.0, 60.0, 75.0, 20.0])  # reference: 100 − |N(0, 4)|
SD = {"listener": 8.0, "item": 5.0, "listener_condition": 6.0, "residual": 10.0}
REF_SD = 4.0
RATED = ["sys01", "sys02", "sys03", "anchor"]  # conditions whose mean coverage is reported
GAP = ("sys03", "sys01", "reference")
AIM, AIM_FROM = 0.94, 12
TWO_WAY = {"2-way", "G 2-way", "R 2-way"}  # meant for items redrawn; the others for items fixed
MODES = {"fixed": (False,), "redrawn": (True,), "both": (False, True)}
MEAN_COLUMNS = ["t", "pct, old", "BCa", "BCa-x, new", "2-way"]
GAP_COLUMNS = ["G old", "G new", "G 2-way", "R old", "R new", "R 2-way"]
REPORTED = {"t", "BCa-x, new", "2-way", "G new", "G 2-way", "R new", "R 2-way"}


def clipped_mean(mean: np.ndarray, sd: float) -> np.ndarray:
    """E[min(max(X, 0), 100)] for X ~ N(mean, sd²): E[X⁺] − E[(X − 100)⁺]."""

    def above(k: float) -> np.ndarray:
        d = (mean - k) / sd
        return (mean - k) * stats.norm.cdf(d) + sd * stats.norm.pdf(d)

    return above(0.0) - above(100.0)


def truth(items: np.ndarray | None) -> dict[str, float]:
    """True condition means and G, R: over listeners for fixed ``items``, else over items too."""
    within = SD["listener"] ** 2 + SD["listener_condition"] ** 2 + SD["residual"] ** 2
    out = {"reference": 100 - REF_SD * np.sqrt(2 / np.pi)}
    for name, mean in zip(NAMES[1:], MEANS[1:], strict=True):
        if items is None:
            out[name] = float(clipped_mean(np.array(mean), np.sqrt(within + SD["item"] ** 2)))
        else:
            out[name] = float(np.mean(clipped_mean(mean + items, np.sqrt(within))))
    new, base, top = (out[c] for c in GAP)
    out["G"], out["R"] = float(_g(new, base, top)), float(_r(new, base))
    return out


def experiment(rng: np.random.Generator, n_listeners: int, items: np.ndarray) -> pd.DataFrame:
    """One complete test as a tidy frame (the analysis' input)."""
    k = len(NAMES)
    shape = (n_listeners, len(items), k)
    score = (
        MEANS
        + rng.normal(0, SD["listener"], (n_listeners, 1, 1))
        + items[None, :, None]
        + rng.normal(0, SD["listener_condition"], (n_listeners, 1, k))
        + rng.normal(0, SD["residual"], shape)
    )
    score[:, :, 0] = 100 - np.abs(rng.normal(0, REF_SD, shape[:2]))
    grid = np.indices(shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "listener": np.char.add("L", grid[0].astype(str)),
            "item": np.char.add("i", grid[1].astype(str)),
            "condition": np.array(NAMES)[grid[2]],
            "score": np.clip(score, 0, 100).reshape(-1),
        }
    )


def covers(bounds, value: float) -> bool:
    return bool(bounds[0] <= value <= bounds[1])


def intervals(df: pd.DataFrame, n_boot: int, seed: int) -> dict[str, dict[str, list[float]]]:
    """Every interval of one experiment, by column then by condition (or G/R)."""
    one = BootstrapMeans.of(df, NAMES, n_boot, seed)
    two = BootstrapMeans.of(df, NAMES, n_boot, seed, items_random=True)
    table = describe(df, boot=one, validated=True)
    out = {c: {} for c in MEAN_COLUMNS + GAP_COLUMNS}
    for name in RATED:
        rep = one.replicates(name)
        out["t"][name] = table.loc[name, "ci95"]
        out["pct, old"][name] = percentile_ci(rep.draws)
        out["BCa"][name] = bca_interval(rep.point, rep.draws, rep.jackknife, expand=False)
        out["BCa-x, new"][name] = table.loc[name, "ci95_bootstrap"]
        out["2-way"][name] = two.ci95(two.replicates(name))
    new, base, top = (one.column(c)[1] for c in GAP)
    out["G old"]["G"] = percentile_ci(_g(new, base, top))
    out["R old"]["R"] = percentile_ci(_r(new, base))
    for boot, suffix in ((one, "new"), (two, "2-way")):
        g = gap_closure(df, *GAP, boot=boot, validated=True)
        out[f"G {suffix}"]["G"] = g.gap_closure_ci95
        out[f"R {suffix}"]["R"] = g.relative_improvement_ci95
    return out


def cell(args: tuple[int, bool, int, int, int, int]) -> dict[str, float]:
    """Coverage of every interval over ``n_exp`` experiments of one design."""
    n_listeners, redraw, n_items, n_exp, n_boot, seed = args
    rng = np.random.default_rng([seed, n_listeners, int(redraw)])
    fixed = rng.normal(0, SD["item"], n_items)
    true = truth(None if redraw else fixed)
    hits = {c: [] for c in MEAN_COLUMNS + GAP_COLUMNS}
    for e in range(n_exp):
        items = rng.normal(0, SD["item"], n_items) if redraw else fixed
        for column, bounds in intervals(experiment(rng, n_listeners, items), n_boot, e).items():
            hits[column].extend(covers(b, true[name]) for name, b in bounds.items())
    return {c: float(np.mean(h)) for c, h in hits.items()}


def verdict(column: str, results: dict, n_exp: int) -> str:
    """One line: does ``column`` reach the aim from AIM_FROM listeners up, in the setting it is
    meant for (and what it gives in the other)?"""
    tolerance = 2 * np.sqrt(AIM * (1 - AIM) / n_exp)
    parts = []
    for redraw in sorted({r for _, r in results}, key=lambda r: r != (column in TWO_WAY)):
        cells = [v[column] for (n, r), v in results.items() if r == redraw and n >= AIM_FROM]
        if not cells:
            continue
        low, label = min(cells), "items redrawn" if redraw else "items fixed"
        if redraw != (column in TWO_WAY):
            parts.append(f"({label}: min {low:.1%})")
            continue
        word = "meets" if low >= AIM else "MISSES"
        if AIM - tolerance <= low < AIM:
            word = "within MC error of"
        parts.append(f"{label}: {word} the aim (min {low:.1%})")
    reported = "reported" if column in REPORTED else "not reported"
    return f"{column:<11} [{reported}] " + " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000, help="per row (default 1000)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples (default 1000)")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--listeners", type=int, nargs="+", default=[8, 12, 20, 40])
    parser.add_argument("--mode", choices=MODES, default="both", help="items fixed/redrawn")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    designs = [(n, r) for r in MODES[args.mode] for n in args.listeners]
    tasks = [(n, r, args.items, args.experiments, args.bootstrap, args.seed) for n, r in designs]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(zip(designs, pool.map(cell, tasks), strict=True))

    columns = MEAN_COLUMNS + GAP_COLUMNS
    print(
        f"95 % interval coverage, {args.experiments} experiments per row, {args.items} items, "
        f"{args.bootstrap} resamples; condition means pooled over {', '.join(RATED)}"
    )
    print(f"{'items':<9}{'listeners':>9}" + "".join(f"{c:>12}" for c in columns))
    for (n, redraw), values in results.items():
        label = "redrawn" if redraw else "fixed"
        print(f"{label:<9}{n:>9}" + "".join(f"{values[c]:>12.1%}" for c in columns))
    print(f"aim: ≥ {AIM:.0%} from {AIM_FROM} listeners up")
    for column in columns:
        print(verdict(column, results, args.experiments))


if __name__ == "__main__":
    main()
