"""Write the designs whose lmerTest fits are the Satterthwaite fixtures (see make_reference.R).

    .venv/bin/python -m tests.mushra.analysis.lmertest.designs   # writes *.csv here

Small synthetic designs where degrees of freedom matter (2 and 4 listeners, an unbalanced one,
a singular one) and a mid-sized one. codec-mushra (the shared data set) is fitted too: its
screened ratings are written here only while the fixtures are made and are not committed.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

# name → (listeners, items, conditions, SDs of listener, item, listener:cond, item:cond,
#         residual, fraction of ratings dropped, seed)
DESIGNS = {
    "two_listeners": (2, 6, 4, (8.0, 4.0, 6.0, 3.0, 10.0), 0.0, 11),
    "four_listeners_unbalanced": (4, 8, 3, (6.0, 3.0, 12.0, 2.0, 9.0), 0.2, 12),
    "twelve_listeners": (12, 10, 4, (10.0, 4.0, 5.0, 6.0, 14.0), 0.1, 13),
    "no_interaction": (9, 7, 3, (7.0, 5.0, 0.0, 0.0, 11.0), 0.0, 14),
}


def design(listeners, items, conditions, sds, drop, seed) -> pd.DataFrame:
    """Ratings with the given random-effect SDs; a fraction ``drop`` removed at random."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(np.arange(listeners), np.arange(items), np.arange(conditions), indexing="ij")
    lis, item, cond = (g.ravel() for g in grid)
    sl, si, slc, sic, se = sds
    score = (
        50.0
        + 5.0 * cond
        + rng.normal(0, sl, listeners)[lis]
        + rng.normal(0, si, items)[item]
        + rng.normal(0, slc, (listeners, conditions))[lis, cond]
        + rng.normal(0, sic, (items, conditions))[item, cond]
        + rng.normal(0, se, len(lis))
    )
    df = pd.DataFrame(
        {
            "listener": [f"L{x:02d}" for x in lis],
            "item": [f"s{x:02d}" for x in item],
            "condition": [f"sys{x}" for x in cond],
            "score": np.round(score, 3),
        }
    )
    return df[rng.random(len(df)) >= drop].reset_index(drop=True)


def main() -> None:
    for name, args in DESIGNS.items():
        design(*args).to_csv(HERE / f"{name}.csv", index=False)


if __name__ == "__main__":
    main()
