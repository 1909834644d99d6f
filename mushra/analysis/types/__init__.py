"""The listening-test types beside MUSHRA (DESIGN.md §13), analysed as purely as MUSHRA is.

* ``acr`` / ``smos``: MOS with a listener-clustered CI, P.808 screening, paired Wilcoxon tests
  on listener means with Holm (:mod:`.acr`, :mod:`.p808`);
* ``cmos``: CMOS per pair with a listener-clustered CI, Wilcoxon of listener means against 0,
  Holm, and the order effect (:mod:`.cmos`);
* ``ab``: preference shares, exact binomial tests with Holm, Bradley–Terry strengths with CIs
  (:mod:`.preference`, :mod:`.bradley_terry`);
* ``abx``: proportion correct, one-sided exact binomial tests, per pair and per listener
  (:mod:`.abx`);
* ``mushra_noref``: the MUSHRA analysis without the hidden-reference rule (``Spec``).

:func:`analyze_any` is the single entry point (:mod:`.dispatch`); webMUSHRA's paired-comparison
and Likert files are read as ABX and ACR (:mod:`.webmushra`).
"""

from mushra.analysis.types.dispatch import (
    MUSHRA_TYPES,
    TEST_TYPES,
    Options,
    TypedResult,
    analyze_any,
    resolve_test_type,
)
from mushra.analysis.types.text import typed_text

__all__ = [
    "MUSHRA_TYPES",
    "TEST_TYPES",
    "Options",
    "TypedResult",
    "analyze_any",
    "resolve_test_type",
    "typed_text",
]
