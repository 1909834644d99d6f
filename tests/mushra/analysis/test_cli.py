"""python -m mushra.analysis: formats, options, and exit code 2 with one line on bad input."""

import json
import subprocess
import sys

import pytest

from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings


@pytest.fixture
def ratings(tmp_path):
    path = tmp_path / "ratings.csv"
    df = mushra_ratings(8, 6, 5, seed=4)
    df["headphones"] = (df["listener"].str[1:].astype(int) % 2).map({0: "closed", 1: "open"})
    df.to_csv(path, index=False)
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mushra.analysis", *args], capture_output=True, text=True
    )


def test_json_on_stdout_with_options(ratings):
    proc = run(
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
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
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
        (None, ["--compare", "sys01:nope"], "unknown condition 'nope' in --compare"),
        (None, ["--compare", "sys01"], "expected A:B"),
        (None, ["--gap", "sys01:reference"], "expected NEW:BASE:TOP"),
        (None, ["--by", "age"], "no column 'age' to break the results down by (the file's extra"),
        (None, ["--bootstrap", "0"], "--bootstrap must be at least 1"),
        (None, ["--format", "docx"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, ratings, content, args, needle):
    path = ratings
    if content is not None:
        path = tmp_path / "bad.csv"
        path.write_text(content)
    proc = run(str(path), *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_names_it(tmp_path):
    proc = run(str(tmp_path / "absent.csv"))
    assert proc.returncode == 2 and proc.stderr.startswith("absent.csv: cannot read absent.csv")


def test_unpaired_comparison_exits_2(tmp_path):
    path = tmp_path / "unpaired.csv"
    path.write_text(
        "listener,item,condition,score\n"
        "a,i1,reference,100\na,i1,x,50\nb,i2,reference,95\nb,i2,y,40\n"
    )
    proc = run(str(path))
    assert (
        proc.returncode == 2 and "no (listener, item) pairs rated both 'x' and 'y'" in proc.stderr
    )


def test_html_and_pdf_reports_from_any_csv(ratings, tmp_path):
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    common = [str(ratings), "--low-anchor", "anchor", "--bootstrap", "200", "--title", "Pilot"]
    assert main([*common, "--format", "html", "--out", str(html)]) == 0
    page = html.read_text()
    assert "Pilot" in page and page.count("<svg") >= 2 and "sys01" in page
    assert main([*common, "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
