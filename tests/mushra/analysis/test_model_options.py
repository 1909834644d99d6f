"""The mixed models' options from the command line: the baseline, and the declared comparisons
tested in the model (issue 15)."""

import json

import pytest

from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings


@pytest.fixture
def ratings(tmp_path):
    path = tmp_path / "ratings.csv"
    mushra_ratings(8, 6, 5, seed=4).to_csv(path, index=False)
    return path


def analysed(capsys, *args: str) -> dict:
    assert main([*args, "--bootstrap", "50"]) == 0
    return json.loads(capsys.readouterr().out)["mixed_model"]


def test_the_full_models_baseline_is_chosen_and_comparisons_are_its_contrasts(ratings, capsys):
    args = [str(ratings), "--low-anchor", "anchor", "--mixed-model", "full"]
    model = analysed(capsys, *args, "--baseline", "sys03", "--compare", "sys01:sys02")
    assert model["baseline"] == "sys03" and "Treatment('sys03')" in model["formula"]
    assert [e["condition"] for e in model["effects"]] == ["sys01", "sys02"]
    (pair,) = model["comparisons"]
    effects = {e["condition"]: e["estimate"] for e in model["effects"]}
    assert (pair["a"], pair["b"]) == ("sys01", "sys02")
    assert pair["estimate"] == pytest.approx(effects["sys01"] - effects["sys02"], abs=1e-9)
    assert 0 < pair["df"] < 1e4 and pair["p_holm"] == pair["p"]
    default = analysed(capsys, *args)
    assert default["baseline"] == "sys01"  # the first condition under test by name


def test_the_default_models_baseline_is_the_reference_unless_named(ratings, capsys):
    assert analysed(capsys, str(ratings))["baseline"] == "reference"
    named = analysed(capsys, str(ratings), "--baseline", "anchor")
    assert named["baseline"] == "anchor"
    assert "reference" in [e["condition"] for e in named["effects"]]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["--baseline", "nope"],
            "--baseline: the mixed model's baseline names a condition that is not in the data: "
            "'nope'",
        ),
        (
            ["--mixed-model", "full", "--baseline", "reference"],
            "--baseline: the full mixed model's baseline must be a condition under test, not the "
            "hidden reference or an anchor ('reference')",
        ),
    ],
)
def test_a_bad_baseline_exits_2_with_one_line(ratings, capsys, args, needle):
    assert main([str(ratings), "--low-anchor", "anchor", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
