"""python -m mushra.analysis RATINGS.csv --power DIFF: a plan from the file as a pilot."""

import json

import pytest

from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings

FAST = [
    "--no-screening",
    "--low-anchor",
    "anchor",
    "--bootstrap",
    "20",
    "--simulations",
    "10",
    "--jobs",
    "1",
]


@pytest.fixture
def pilot(tmp_path):
    path = tmp_path / "pilot.csv"
    mushra_ratings(8, 6, 5, seed=4).to_csv(path, index=False)
    return path


def test_power_prints_the_plan_as_a_table(pilot, capsys):
    assert main([str(pilot), "--power", "20", "--listeners", "4,8", *FAST]) == 0
    out = capsys.readouterr().out
    assert "Power to detect a difference of 20 points" in out
    table = out[out.index("Power to detect") : out.index("Sequential:")]
    rows = [line.split() for line in table.splitlines() if line.strip().startswith("6 ")]
    assert [r[1] for r in rows] == ["4", "8"]  # items 6 (the pilot's), each listener count
    assert all(0 <= float(r[2]) <= 1 for r in rows)
    assert "With 6 items:" in out and "Sequential: sys03 − sys01" in out


def test_power_in_json_is_a_key_beside_the_analysis(pilot, capsys):
    args = [str(pilot), "--power", "20", "--listeners", "5", "--items", "4,6", "--format", "json"]
    assert main([*args, *FAST]) == 0
    data = json.loads(capsys.readouterr().out)
    power = data["power"]
    assert data["n_listeners"] == power["pilot"]["listeners"] == 8
    assert [(c["items"], c["listeners"]) for c in power["cells"]] == [(4, 5), (6, 5)]
    assert set(power["components"]) == {
        "listener",
        "item",
        "listener:condition",
        "item:condition",
        "residual",
    }
    assert power["sequential"]["rows"][-1]["listeners"] == 8


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--power", "0"], "--power: the difference to detect must be above 0 points (got 0.0)"),
        (["--power", "-3"], "--power: the difference to detect must be above 0"),
        (["--power", "nan"], "--power: the difference to detect must be above 0"),
        (["--power", "5", "--alpha", "2"], "--alpha: alpha must be between 0 and 0.5"),
        (["--power", "5", "--target-power", "1.5"], "--target-power: the target power must be"),
        (["--power", "5", "--simulations", "3"], "--simulations: at least 10 simulations"),
        (
            ["--power", "5", "--listeners", "4,x"],
            "--listeners: the listener counts must be whole numbers like 10,20,40, not '4,x'",
        ),
        (["--power", "5", "--listeners", "1"], "--listeners: listener counts must be between"),
        (["--power", "5", "--format", "csv"], "--format: a plan is printed as text or json"),
        (["--power", "5", "--precision", "0"], "--precision: the target half-width must be above"),
        (["--power", "5", "--jobs", "0"], "--jobs: at least 1 worker process is needed"),
    ],
)
def test_bad_planning_values_exit_2_with_one_line(pilot, capsys, extra, words):
    assert main([str(pilot), *FAST, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pilot.csv: ") and words in err


def test_power_on_a_pilot_with_one_system_is_refused(tmp_path, capsys):
    path = tmp_path / "one.csv"
    mushra_ratings(6, 4, 3, seed=1).to_csv(path, index=False)  # reference, sys01, anchor
    assert main([str(path), "--power", "5", *FAST]) == 2
    err = capsys.readouterr().err
    assert err == ("one.csv: planning needs a pilot with two conditions under test (besides the "
                   "hidden reference and the anchors)\n")  # fmt: skip
