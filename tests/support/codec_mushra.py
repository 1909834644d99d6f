"""The codec-mushra data set (../shared/datasets) in tidy form, for analysis and report tests."""

import ast

import pandas as pd

from tests.support.paths import SHARED_DATASETS

CODEC = SHARED_DATASETS / "codec-mushra"
REFERENCE = "Reference"  # hidden reference (file stim_XX/ref.wav)
ANCHOR = "Anchor"  # the only anchor; no file, no 7 kHz mid anchor → mid-anchor rule skipped


def codec_tidy(name: str) -> pd.DataFrame:
    """Explode one row per (signal, condition) into one row per rating."""
    raw = pd.read_csv(CODEC / name)
    rows = []
    for rec in raw.itertuples(index=False):
        scores = ast.literal_eval(rec.ratings)
        listeners = ast.literal_eval(rec.participant_ids)
        assert len(scores) == len(listeners)
        for score, listener in zip(scores, listeners, strict=True):
            rows.append(
                {
                    "listener": listener,
                    "item": rec.signal,
                    "condition": rec.condition,
                    "score": score,
                }
            )
    return pd.DataFrame(rows)
