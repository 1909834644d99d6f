"""The confirmatory mixed model (listener×condition and item×condition terms) and its limits."""

import json

import pytest

from mushra.analysis import AnalysisError, Spec, analyze, tidy
from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings
from tests.mushra.analysis.statsmodels_reference import MAX_RATINGS, statsmodels_full_model
from tests.support.codec_mushra import ANCHOR, codec_tidy
from tests.support.services import need_shared_data


@pytest.mark.shared_data
def test_full_model_reproduces_the_reference_notes_on_codec_mushra():
    """Reference notes §4a: P5.51 vs AudioDec −6.67, SE 4.48, Wald p = 0.136 (t with 109.3
    Satterthwaite df: 0.139); components 156, 13, 36, 99 and 300, where the intercept-only
    model says p = 0.005."""
    need_shared_data()
    full = tidy(codec_tidy("ratings_formated.csv"))
    model = analyze(full, Spec(low_anchor=ANCHOR, mixed="full", n_boot=50)).to_dict()["mixed_model"]
    assert "(1|listener:condition) + (1|item:condition)" in model["formula"]
    assert "Treatment('AudioDec')" in model["formula"]  # the first condition under test
    effect = next(e for e in model["effects"] if e["condition"] == "Proposed 5.51")
    assert effect["estimate"] == pytest.approx(-6.67, abs=0.005)
    assert effect["se"] == pytest.approx(4.48, abs=0.005)
    assert effect["p"] == pytest.approx(0.139, abs=0.0005)
    components = model["variance_components"]
    assert list(components) == ["listener", "item", "listener:condition", "item:condition",
                                "residual"]  # fmt: skip
    expected = [156, 13, 36, 99, 300]
    assert [round(v) for v in components.values()] == expected
    assert {e["condition"] for e in model["effects"]}.isdisjoint({"Reference", ANCHOR})


def test_analysis_fits_the_full_model_where_statsmodels_is_refused():
    df = tidy(mushra_ratings(60, 20, 12, seed=0))  # 10 systems × 1,200 = 12,000 ratings
    systems = sorted(set(df["condition"]) - {"reference", "anchor"})
    assert len(df[df["condition"].isin(systems)]) > MAX_RATINGS
    with pytest.raises(AnalysisError, match="limited to 10,000 ratings"):
        statsmodels_full_model(df, systems, systems[0])  # it would take minutes
    spec = Spec(low_anchor="anchor", mixed="full", n_boot=50)
    model = analyze(df, spec).to_dict()["mixed_model"]  # the sufficient-statistics fit
    assert len(model["effects"]) == len(systems) - 1
    # Synthetic truth (mushra.analysis.synthetic): listener SD 8, item SD 5, noise SD 10, no
    # interactions; sys10's mean is 40 points above sys01's.
    components = model["variance_components"]
    assert 30 < components["listener"] < 110 and 60 < components["residual"] < 140
    assert components["listener:condition"] < 10 and components["item:condition"] < 10
    sys10 = next(e for e in model["effects"] if e["condition"] == "sys10")
    assert sys10["estimate"] == pytest.approx(40, abs=3)


def test_cli_chooses_the_model(tmp_path, capsys):
    path = tmp_path / "r.csv"
    mushra_ratings(12, 6, 5, seed=2).to_csv(path, index=False)
    base = [str(path), "--low-anchor", "anchor", "--bootstrap", "50"]
    assert main([*base, "--mixed-model", "full"]) == 0
    full = json.loads(capsys.readouterr().out)["mixed_model"]
    assert "listener:condition" in full["variance_components"]
    assert main([*base, "--mixed-model", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["mixed_model"] is None
    assert main(base) == 0
    default = json.loads(capsys.readouterr().out)["mixed_model"]
    assert list(default["variance_components"]) == ["listener", "item", "residual"]
