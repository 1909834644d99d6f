"""The analysis' options as its errors name them, and condition names written A:B.

An :class:`~mushra.analysis.data.AnalysisError` about an option says what went wrong in words a
scientist reads on a page (which condition, which option) and carries the option's name from
:data:`OPTIONS` in ``option``. Each front end adds its own name for it, the command line its
flag (``mushra.analysis.cli.FLAGS``) and a page its form field's label, so the library never
speaks of either.
"""

from __future__ import annotations

from collections.abc import Iterable

from mushra.analysis.data import AnalysisError

OPTIONS = (
    # which conditions play which part (mushra.analysis.analyze.Spec)
    "reference",
    "mid_anchor",
    "low_anchor",
    "compare",
    "gap",
    "baseline",
    # how the analysis runs
    "by",
    "mixed_model",
    "screening",
    "attention",
    "exclude_fast",
    "bootstrap",
    "seed",
    "items_random",
    "test_type",
    # planning (mushra.analysis.power, mushra.analysis.sequential)
    "difference",
    "target_power",
    "alpha",
    "simulations",
    "listeners",
    "items",
    "jobs",
    "precision",
    # the output
    "format",
    "out",
)
# The options that name conditions, as the subject of a message.
NAMING = {
    "reference": "the hidden reference",
    "mid_anchor": "the mid anchor",
    "low_anchor": "the low anchor",
    "compare": "a compared pair",
    "gap": "the gap closure",
    "baseline": "the mixed model's baseline",
}
SHAPES = {2: "two condition names as A:B", 3: "three condition names as NEW:BASE:TOP"}


def unknown_condition(name: str, option: str, known: Iterable[str]) -> AnalysisError:
    """The error for an option naming a condition nobody rated."""
    return AnalysisError(
        f"{NAMING[option]} names a condition that is not in the data: {name!r} "
        f"(conditions: {', '.join(sorted(known))})",
        option=option,
    )


def parse_names(value: str, parts: int, option: str) -> tuple[str, ...]:
    """Condition names written with colons: a compared pair A:B (``parts`` 2) or a gap closure
    NEW:BASE:TOP (3); ``option`` is the option they were given for."""
    names = tuple(value.split(":"))
    if len(names) != parts or not all(names):
        subject = NAMING.get(option, "the value")
        raise AnalysisError(f"{subject} must be {SHAPES[parts]}, not {value!r}", option=option)
    return names
