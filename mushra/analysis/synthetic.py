"""Synthetic MUSHRA ratings with known structure, for benchmarks and tests of scale.

Scores follow score = condition effect + listener offset + item offset + noise, clipped to 0-100,
so a mixed model has known components to recover and the analysis sees realistic ties at 0/100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def mushra_ratings(
    n_listeners: int,
    n_items: int,
    n_conditions: int,
    *,
    seed: int = 0,
    listener_sd: float = 8.0,
    item_sd: float = 5.0,
    noise_sd: float = 10.0,
) -> pd.DataFrame:
    """A complete listener × item × condition grid in tidy form.

    Condition 0 is "reference" (near 100), the last is "anchor" (mean 20) and the rest are systems
    "sys01", "sys02", … with means spread between 40 and 80.
    """
    if n_conditions < 3:
        raise ValueError("need a reference, an anchor and at least one system")
    rng = np.random.default_rng(seed)
    systems = [f"sys{i:02d}" for i in range(1, n_conditions - 1)]
    names = np.array(["reference", *systems, "anchor"])
    means = np.concatenate([[95.0], np.linspace(40.0, 80.0, len(systems)), [20.0]])
    shape = (n_listeners, n_items, n_conditions)
    listener = rng.normal(0, listener_sd, n_listeners)[:, None, None]
    item = rng.normal(0, item_sd, n_items)[None, :, None]
    score = means[None, None, :] + listener + item + rng.normal(0, noise_sd, shape)
    # Attentive listeners rate the hidden reference near 100 whatever the item, as BS.1534
    # screening expects; a few slips below 90 keep the screening rule exercised.
    score[:, :, 0] = 100 - np.abs(rng.normal(0, 4.0, (n_listeners, n_items)))
    score = np.clip(np.round(score), 0, 100)
    grid = np.indices(shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "listener": np.char.add("L", grid[0].astype(str)),
            "item": np.char.add("i", grid[1].astype(str)),
            "condition": names[grid[2]],
            "score": score.reshape(-1),
        }
    )
