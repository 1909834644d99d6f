"""Pure statistics for MUSHRA results (ITU-R BS.1534-3): no Django, only numpy/scipy/pandas.

Kept free of Django so the same code runs in a notebook, a worker or a test without settings.
Every function takes a tidy DataFrame (listener, item, condition, score) validated by
:func:`mushra.analysis.data.tidy`.
"""

from mushra.analysis.analyze import Result, Spec, analyze
from mushra.analysis.data import AnalysisError, read_ratings, tidy
from mushra.analysis.descriptives import describe
from mushra.analysis.gaps import GapResult, gap_closure
from mushra.analysis.mixed import mixed_model
from mushra.analysis.omnibus import friedman
from mushra.analysis.pairwise import holm, pairwise_wilcoxon
from mushra.analysis.screening import Screening, screen

__all__ = [
    "AnalysisError",
    "GapResult",
    "Result",
    "Screening",
    "Spec",
    "analyze",
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
