"""Fixtures of the report tests: the codec-mushra ratings and results built from them
(tests/support/reports.py), and the report's metadata."""

from __future__ import annotations

import pandas as pd
import pytest

from mushra.analysis import tidy
from mushra.reports import ReportMeta
from tests.support.codec_mushra import ANCHOR, REFERENCE, codec_tidy
from tests.support.reports import N_BOOT, build_result, corpus_of
from tests.support.services import need_shared_data


@pytest.fixture(scope="session")
def codec_ratings() -> pd.DataFrame:
    need_shared_data()
    return tidy(codec_tidy("ratings_formated.csv"))


@pytest.fixture(scope="session")
def codec_result(codec_ratings) -> dict:
    return build_result(codec_ratings)


@pytest.fixture(scope="session")
def strata_ratings(codec_ratings) -> pd.DataFrame:
    return codec_ratings.assign(corpus=codec_ratings["item"].map(corpus_of))


@pytest.fixture(scope="session")
def strata_result(strata_ratings) -> dict:
    return build_result(strata_ratings, by=["corpus"])


@pytest.fixture(scope="session")
def meta() -> ReportMeta:
    return ReportMeta(
        title="Codec MUSHRA",
        reference=REFERENCE,
        low_anchor=ANCHOR,
        mid_anchor=None,
        n_boot=N_BOOT,
        seed=1,
        screening=True,
        source="ratings_formated.csv",
        question="Basic audio quality",
        generated="2025-01-01 12:00",
        by=[],
    )
