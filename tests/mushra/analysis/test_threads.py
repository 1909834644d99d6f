"""The analysis bounds the BLAS to one thread while it runs, and leaves the caller's limits as
they were (issue 15, item 7; bench/analysis_threads.py measures the effect)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from mushra.analysis import analyze, mixed_model
from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.synthetic import mushra_ratings
from mushra.analysis.threads import BLAS_THREADS, blas_limited


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_numpy_has_a_blas_to_bound():
    np.dot(np.ones((64, 64)), np.ones((64, 64)))  # loads it, if lazily
    assert _blas_threads(), "no BLAS found: the limit would bound nothing"


def test_a_limited_call_runs_on_one_blas_thread_and_restores_the_limit():
    seen = []
    probe = blas_limited(lambda: seen.append(_blas_threads()))
    with threadpool_limits(limits=2, user_api="blas"):
        probe()
        after = _blas_threads()
    assert seen == [{BLAS_THREADS}]
    assert after == {2}


@pytest.mark.parametrize("fit", [analyze, mixed_model, mixed_model_full])
def test_every_fit_of_the_analysis_is_limited(fit):
    assert getattr(fit, "blas_threads", None) == BLAS_THREADS
    assert fit.__wrapped__ is not fit


def test_the_analysis_gives_the_same_result_limited_or_not():
    df = mushra_ratings(8, 6, 5, seed=3)
    limited = analyze(df).data["mixed_model"]
    free = analyze.__wrapped__(df).data["mixed_model"]
    assert limited == free
