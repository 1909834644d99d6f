"""Pure statistics for MUSHRA results (ITU-R BS.1534-3): no Django, only numpy/scipy/pandas.

Kept free of Django so the same code runs in a notebook, a worker or a test without settings.
Every function takes a tidy DataFrame (listener, item, condition, score) validated by
:func:`mushra.analysis.data.tidy`. The other test types (ACR, SMOS, CMOS, A/B, ABX, MUSHRA
without hidden reference) live in :mod:`mushra.analysis.types`; :func:`analyze_any` analyses
any of them, MUSHRA included.
"""

from mushra.analysis.analyze import Result, Spec, analyze
from mushra.analysis.data import AnalysisError, read_ratings, tidy
from mushra.analysis.descriptives import describe
from mushra.analysis.gaps import GapResult, gap_closure
from mushra.analysis.lmm_intercepts import mixed_model
from mushra.analysis.omnibus import friedman
from mushra.analysis.pairwise import holm, pairwise_wilcoxon
from mushra.analysis.screening import Screening, screen
from mushra.analysis.types import Options, TypedResult, analyze_any

__all__ = [
    "AnalysisError",
    "GapResult",
    "Options",
    "Result",
    "Screening",
    "Spec",
    "TypedResult",
    "analyze",
    "analyze_any",
    "describe",
    "friedman",
    "gap_closure",
    "holm",
    "mixed_model",
    "pairwise_wilcoxon",
    "read_ratings",
    "screen",
    "tidy",
]
