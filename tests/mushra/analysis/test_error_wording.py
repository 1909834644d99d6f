"""An AnalysisError says what went wrong in the analysis' words and names the option at fault in
``option``; only the command line speaks of flags (issue 17, item 4): its message reaches web
pages as it is."""

import pandas as pd
import pytest

from mushra.analysis import AnalysisError, Options, Spec, analyze, analyze_any, gap_closure, tidy
from mushra.analysis.cli import FLAGS, worded
from mushra.analysis.options import OPTIONS, parse_names
from mushra.analysis.power import power_plan
from mushra.analysis.screening import attention_outcomes
from mushra.analysis.sequential import sequential_view
from mushra.analysis.synthetic import mushra_ratings
from mushra.analysis.timing import screen_fast

MUSHRA = tidy(mushra_ratings(4, 3, 4, seed=0))  # reference, sys01, sys02, anchor
AB = pd.DataFrame(
    [(f"L{k}", f"i{j}", "x", "y", "x" if (k + j) % 2 else "y") for k in range(4) for j in range(3)],
    columns=["listener", "item", "a", "b", "preferred"],
)
COMPONENTS = {"listener": 50.0, "item": 20.0, "listener:condition": 10.0,
              "item:condition": 10.0, "residual": 100.0}  # fmt: skip


def _harsh_reference() -> pd.DataFrame:
    """Every listener rates the hidden reference 50: screening excludes them all."""
    df = MUSHRA.copy()
    df.loc[df["condition"] == "reference", "score"] = 50.0
    return df


def _plan(**changed):
    return power_plan(COMPONENTS, changed.pop("difference", 5.0), items=6, **changed)


CASES = [
    (
        lambda: analyze(MUSHRA, Spec(reference="Natural")),
        "reference",
        "the hidden reference names a condition that is not in the data: 'Natural' "
        "(conditions: anchor, reference, sys01, sys02)",
    ),
    (lambda: analyze(MUSHRA, Spec(mid_anchor="lp7")), "mid_anchor", "the mid anchor names"),
    (lambda: analyze(MUSHRA, Spec(low_anchor="lp3")), "low_anchor", "the low anchor names"),
    (
        lambda: analyze(MUSHRA, Spec(compare=(("sys01", "sysXX"),))),
        "compare",
        "a compared pair names a condition that is not in the data: 'sysXX'",
    ),
    (
        lambda: analyze(MUSHRA, Spec(compare=(("sys01", "sys01"),))),
        "compare",
        "the pair sys01:sys01 compares a condition with itself",
    ),
    (
        lambda: analyze(MUSHRA, Spec(gaps=(("Foo", "sys01", "reference"),))),
        "gap",
        "the gap closure names a condition that is not in the data: 'Foo'",
    ),
    (
        lambda: analyze(MUSHRA, Spec(gaps=(("sys01", "reference", "reference"),))),
        "gap",
        "needs a base and a top that differ",
    ),
    (
        lambda: analyze(MUSHRA, Spec(baseline="nope")),
        "baseline",
        "the mixed model's baseline names a condition that is not in the data: 'nope'",
    ),
    (
        lambda: analyze(MUSHRA, Spec(mixed="full", baseline="reference")),
        "baseline",
        "the full mixed model's baseline must be a condition under test",
    ),
    (
        lambda: analyze(MUSHRA, Spec(by=("age",))),
        "by",
        "no column 'age' to break the results down by",
    ),
    (lambda: analyze(MUSHRA, Spec(mixed="bogus")), "mixed_model", "unknown mixed model 'bogus'"),
    (
        lambda: analyze(MUSHRA, Spec(hidden_reference=False, reference="reference")),
        "reference",
        "a MUSHRA test without hidden reference has none",
    ),
    (
        lambda: analyze(_harsh_reference()),
        "reference",
        "screening excluded every listener: check the hidden reference, or turn screening off",
    ),
    (lambda: gap_closure(MUSHRA, "Foo", "sys01", "reference"), "gap", "'Foo'"),
    (
        lambda: analyze_any(MUSHRA.assign(test_type="mushra"), Options(test_type="cmos")),
        "test_type",
        "the test type cmos contradicts the file's test_type column (mushra)",
    ),
    (
        lambda: analyze_any(MUSHRA, Options(test_type="ranking")),
        "test_type",
        "unknown test type 'ranking'",
    ),
    (
        lambda: analyze_any(AB, Options(compare=(("x", "nope"),))),
        "compare",
        "a compared pair names a condition that is not in the data: 'nope'",
    ),
    (
        lambda: analyze_any(AB, Options(compare=(("x", "y"), ("y", "x")))),
        "compare",
        "the pair y, x is declared twice",
    ),
    (
        lambda: analyze_any(AB, attention=pd.DataFrame({"listener": ["L0"], "passed": [True]})),
        "attention",
        "attention-check outcomes apply to MUSHRA tests, not ab",
    ),
    (lambda: parse_names("sys01", 2, "compare"), "compare", "must be two condition names"),
    (lambda: parse_names("a:b", 3, "gap"), "gap", "must be three condition names"),
    (lambda: attention_outcomes(pd.DataFrame({"listener": ["L0"]})), "attention", "passed"),
    (lambda: screen_fast(MUSHRA), "exclude_fast", "the fast-rater rule needs the column(s)"),
    (lambda: _plan(difference=-1.0), "difference", "the difference to detect must be 0 points"),
    (lambda: _plan(alpha=2.0), "alpha", "alpha must be between 0 and 0.5"),
    (lambda: _plan(target=1.5), "target_power", "the target power must be between 0 and 1"),
    (lambda: _plan(simulations=3), "simulations", "at least 10 simulations are needed"),
    (lambda: _plan(listeners=[1]), "listeners", "listener counts must be between"),
    (
        lambda: power_plan(COMPONENTS, 5.0, items=[1]),
        "items",
        "item counts must be between",
    ),
    (
        lambda: sequential_view(MUSHRA, ["sys01", "sys02"], target=0.0),
        "precision",
        "the target half-width must be above 0 points",
    ),
    (
        lambda: sequential_view(MUSHRA, ["sys01", "sys02"], target=1.0, gap=("Foo", "sys01")),
        "gap",
        "the headline Foo − sys01 needs two conditions under test",
    ),
]


@pytest.mark.parametrize(("call", "option", "words"), CASES)
def test_an_option_error_is_worded_for_any_reader_and_names_its_option(call, option, words):
    with pytest.raises(AnalysisError) as exc_info:
        call()
    message = str(exc_info.value)
    assert words in message
    assert "--" not in message and "\n" not in message
    assert exc_info.value.option == option


def test_an_error_in_the_data_names_no_option():
    with pytest.raises(AnalysisError) as exc_info:
        tidy(pd.DataFrame({"listener": ["a"], "item": ["i"], "score": [50]}))
    assert exc_info.value.option is None


def test_every_option_has_a_flag_on_the_command_line():
    assert set(FLAGS) == set(OPTIONS)


def test_the_command_line_puts_the_flag_before_the_message():
    assert worded(AnalysisError("at least 10 simulations", option="simulations")) == (
        "--simulations: at least 10 simulations"
    )
    assert worded(AnalysisError("the difference", option="difference")).startswith("--power: ")
    assert worded(AnalysisError("missing column(s): score")) == "missing column(s): score"
