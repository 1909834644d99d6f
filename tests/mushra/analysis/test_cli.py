"""python -m mushra.analysis: formats, options, and exit code 2 with one line on bad input.

In-process through main() (tests.support.cli); the last tests run the real process."""

import json
import subprocess
import sys

import pytest

from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings
from tests.support.cli import run_cli


@pytest.fixture
def ratings(tmp_path):
    path = tmp_path / "ratings.csv"
    df = mushra_ratings(8, 6, 5, seed=4)
    df["headphones"] = (df["listener"].str[1:].astype(int) % 2).map({0: "closed", 1: "open"})
    df.to_csv(path, index=False)
    return path


def test_json_on_stdout_with_options(ratings):
    code, out, err = run_cli(
        str(ratings),
        "--low-anchor=anchor",
        "--compare",
        "sys01:sys03",
        "--gap",
        "sys03:sys01:reference",
        "--by",
        "headphones",
        "--bootstrap",
        "300",
    )
    assert code == 0, err
    data = json.loads(out)
    assert [(p["a"], p["b"]) for p in data["pairwise"]] == [("sys01", "sys03")]
    assert data["gaps"][0]["new"] == "sys03"
    assert [s["value"] for s in data["strata"]] == ["closed", "open"]
    assert data["n_ratings"] + 0 == sum(c["n"] for c in data["conditions"])


def test_same_seed_same_numbers_other_seed_other_intervals(ratings, capsys):
    outputs = []
    for seed in ("1", "1", "2"):
        assert main([str(ratings), "--bootstrap", "200", "--seed", seed]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    first, other = outputs[0]["conditions"][0], outputs[2]["conditions"][0]
    assert first["mean"] == other["mean"]
    assert first["ci95_bootstrap"] != other["ci95_bootstrap"]


def test_text_and_csv_formats(ratings, tmp_path, capsys):
    assert main([str(ratings), "--format", "text", "--bootstrap", "100"]) == 0
    shown = capsys.readouterr().out
    assert "Friedman" in shown and "sys01 vs sys02" in shown and "Mixed model (REML)" in shown
    out = tmp_path / "table.csv"
    assert main([str(ratings), "--format", "csv", "--by", "headphones", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("by,value,condition,n,mean")
    assert len(lines) == 1 + 5 * 3  # whole test + two strata, five conditions each


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        ("listener,item,score\na,i,50\n", [], "missing column(s): condition"),
        ("listener,item,condition,score\na,i,x,loud\n", [], "not a number in row 0"),
        ("listener,item,condition,score\na,i,x,150\n", [], "outside 0-100 in row 0"),
        ("", [], "cannot read"),
        (
            None,
            ["--compare", "sys01:nope"],
            "ratings.csv: --compare: a compared pair names a condition that is not in the data: "
            "'nope' (conditions: anchor, reference, sys01, sys02, sys03)",
        ),
        (
            None,
            ["--compare", "sys01"],
            "--compare: a compared pair must be two condition names as A:B, not 'sys01'",
        ),
        (
            None,
            ["--gap", "sys01:reference"],
            "--gap: the gap closure must be three condition names as NEW:BASE:TOP",
        ),
        (
            None,
            ["--gap", "sys01:reference:reference"],
            "--gap: the gap closure sys01:reference:reference needs a base and a top that differ",
        ),
        (None, ["--by", "age"], "--by: no column 'age' to break the results down by (the file's"),
        (None, ["--bootstrap", "0"], "--bootstrap: at least 1 bootstrap resample is needed"),
        (None, ["--format", "docx"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_flag(tmp_path, ratings, content, args, needle):
    path = ratings
    if content is not None:
        path = tmp_path / "bad.csv"
        path.write_text(content)
    code, out, err = run_cli(str(path), *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err


def test_missing_file_names_it(tmp_path):
    code, _, err = run_cli(str(tmp_path / "absent.csv"))
    assert code == 2 and err.startswith("absent.csv: cannot read absent.csv")


def test_unpaired_comparison_exits_2(tmp_path):
    path = tmp_path / "unpaired.csv"
    path.write_text(
        "listener,item,condition,score\n"
        "a,i1,reference,100\na,i1,x,50\nb,i2,reference,95\nb,i2,y,40\n"
    )
    code, _, err = run_cli(str(path))
    assert code == 2 and "no (listener, item) pairs rated both 'x' and 'y'" in err


def test_html_and_pdf_reports_from_any_csv(ratings, tmp_path):
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    common = [str(ratings), "--low-anchor", "anchor", "--bootstrap", "200", "--title", "Pilot"]
    assert main([*common, "--format", "html", "--out", str(html)]) == 0
    page = html.read_text()
    assert "Pilot" in page and page.count("<svg") >= 2 and "sys01" in page
    assert main([*common, "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mushra.analysis", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--compare", "sys01:nope"], "ratings.csv: --compare: a compared pair names a condition"),
        (["--format", "docx"], "argument --format: invalid choice: 'docx'"),
    ],
)
def test_the_process_exits_2_with_one_line_and_no_traceback(ratings, args, needle):
    """The real process, once for the library's errors and once for argparse's."""
    proc = run_process(str(ratings), *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_process_prints_its_help():
    proc = run_process("--help")
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.startswith("usage: python -m mushra.analysis")
        and "--mixed-model" in proc.stdout
    )
