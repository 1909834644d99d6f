"""BLAS threads in the analysis: one, whatever the machine (issue 15, item 7).

numpy and scipy hand their linear algebra to a BLAS (OpenBLAS here) that starts one thread per
core. On a server whose cores are busy with web workers and Celery tasks, those threads fight each
other and everything else for the same cores: the confirmatory model on 20,000 ratings took
150.8 s with the default threads on a busy 2-core machine and 3.7 s with one. The analysis' fits
work on matrices of a few thousand rows, too small to gain from parallel BLAS, so one thread costs
nothing on a quiet machine and keeps a busy one from slowing a fit many times over
(``bench/analysis_threads.py`` measures both).

``blas_limited`` bounds every BLAS in the process for the duration of the call (threadpoolctl) and
restores the previous limits afterwards, so a caller's own settings are untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import threadpool_limits

BLAS_THREADS = 1

F = TypeVar("F", bound=Callable)


def blas_limited(func: F) -> F:
    """``func`` with the BLAS bounded to ``BLAS_THREADS`` while it runs (``__wrapped__``: not)."""

    @functools.wraps(func)
    def limited(*args, **kwargs):
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            return func(*args, **kwargs)

    limited.blas_threads = BLAS_THREADS
    return limited  # type: ignore[return-value]
