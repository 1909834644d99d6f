"""python -m mushra.analysis on the other test types, in-process: the type from --test-type, a
test_type column or the columns; json and text; exit code 2 with one line on bad input."""

import io
import json

import pandas as pd
import pytest

from mushra.analysis import Spec, analyze, analyze_any, read_ratings
from mushra.analysis.cli import main
from mushra.analysis.synthetic import mushra_ratings

ACR = "listener,item,condition,score\n" + "".join(
    f"L{k},i{j},{c},{(k + j + n) % 5 + 1}\n"
    for k in range(6)
    for j in range(3)
    for n, c in enumerate(("base", "new"))
)
CMOS = "listener,item,a,b,score\n" + "".join(
    f"L{k},i{j},{'x' if j % 2 else 'y'},{'y' if j % 2 else 'x'},{(k + j) % 3 - (j % 2)}\n"
    for k in range(6)
    for j in range(4)
)
AB = "listener,item,a,b,preferred\n" + "".join(
    f"L{k},i{j},{a},{b},{[a, b, 'none'][(k + j) % 3]}\n"
    for k in range(5)
    for j in range(4)
    for a, b in (("x", "y"), ("y", "z"), ("z", "x"))
)
ABX = "listener,item,a,b,x,answer\n" + "".join(
    f"L{k},i{j},p,q,{'p' if j % 2 else 'q'},{'p' if (k + j) % 4 else 'q'}\n"
    for k in range(4)
    for j in range(6)
)


def write(tmp_path, content: str, name: str = "ratings.csv"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def run_json(capsys, *args) -> dict:
    assert main(list(args)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def error_line(capsys, *args) -> str:
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err.strip()


@pytest.mark.parametrize(("content", "expected"), [(CMOS, "cmos"), (AB, "ab"), (ABX, "abx")])
def test_pair_types_are_recognised_by_their_columns(tmp_path, capsys, content, expected):
    data = run_json(capsys, write(tmp_path, content))
    assert data["test_type"] == expected and data["pairs"]


def test_mushra_file_with_extra_columns_a_and_b_stays_mushra(tmp_path, capsys):
    df = mushra_ratings(4, 2, 3, seed=1).assign(a="x", b="y")
    path = tmp_path / "ratings.csv"
    df.to_csv(path, index=False)
    data = run_json(capsys, str(path), "--bootstrap", "50", "--mixed-model", "none")
    assert data["test_type"] == "mushra"


def test_acr_needs_to_be_named_and_prints_mos(tmp_path, capsys):
    path = write(tmp_path, ACR)
    data = run_json(capsys, path, "--test-type", "acr")
    assert data["test_type"] == "acr" and [c["condition"] for c in data["conditions"]] == [
        "base",
        "new",
    ]
    assert main([path, "--test-type", "smos", "--format", "text"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("SMOS (similarity to the target speaker") and "base vs new" in shown


def with_column(content: str, name: str, values: list[str]) -> str:
    """``content`` with a column ``name`` whose rows cycle through ``values``."""
    header, *rows = content.splitlines()
    lines = [f"{header},{name}"] + [f"{r},{values[k % len(values)]}" for k, r in enumerate(rows)]
    return "\n".join(lines) + "\n"


def test_test_type_column_names_the_type(tmp_path, capsys):
    data = run_json(capsys, write(tmp_path, with_column(ACR, "test_type", [" ACR"])))
    assert data["test_type"] == "acr" and data["n_ratings"] == 36


@pytest.mark.parametrize(
    ("column_values", "args", "needle"),
    [
        (["cmos", "ab"], [], "column 'test_type' has several values (ab, cmos)"),
        (["cmos", "cmos"], ["--test-type", "ab"], "--test-type: the test type ab contradicts the"),
        (["ranking", ""], [], "column 'test_type' names an unknown test type 'ranking'"),
    ],
)
def test_conflicting_or_unknown_test_types_are_refused(
    tmp_path, capsys, column_values, args, needle
):
    path = write(tmp_path, with_column(CMOS, "test_type", column_values))
    assert needle in error_line(capsys, path, *args)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (CMOS, "CMOS of b against a"),
        (AB, "Bradley-Terry maximum likelihood"),
        (ABX, "Per listener (uncorrected)"),
    ],
)
def test_text_format_of_each_pair_type(tmp_path, capsys, content, needle):
    assert main([write(tmp_path, content), "--format", "text"]) == 0
    assert needle in capsys.readouterr().out


def test_a_csv_table_is_not_available_for_the_other_types_yet(tmp_path, capsys):
    message = error_line(capsys, write(tmp_path, AB), "--format", "csv")
    assert message == (
        "ratings.csv: --format: csv is not available for test type ab yet "
        "(use json, text, html or pdf)"
    )


def test_the_other_types_get_their_html_and_pdf_report(tmp_path):
    path = write(tmp_path, AB)
    assert main([str(path), "--format", "html", "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "Bradley" in html and "ratings.csv" in html
    assert main([str(path), "--format", "pdf", "--out", str(tmp_path / "r.pdf")]) == 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--gap", "x:y:z"], "--gap: this option applies to MUSHRA tests, not to test type ab"),
        (["--mid-anchor", "x"], "--mid-anchor: this option applies to MUSHRA tests"),
        (["--bootstrap", "50"], "--bootstrap: this option applies to MUSHRA tests"),
        (["--power", "5"], "--power: this option applies to MUSHRA tests"),
        (["--no-screening"], "--no-screening: test type ab has no screening rules"),
        (["--compare", "x:nope"], "--compare: a compared pair names a condition that is not in"),
        (["--compare", "x:y", "--compare", "y:x"], "--compare: the pair y, x is declared twice"),
    ],
)
def test_options_that_do_not_apply_are_refused(tmp_path, capsys, args, needle):
    assert needle in error_line(capsys, write(tmp_path, AB), *args)


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        (CMOS.replace("L0,i0,y,x,0", "L0,i0,y,x,5"), [], "'score' is outside -3 to 3 in row 0"),
        (
            CMOS.replace("L0,i0,y,x,0", "L0,i0,y,x,0.5"),
            [],
            "'score' is not a whole number in row 0",
        ),
        (CMOS.replace("L0,i0,y,x,0", "L0,i0,y,y,0"), [], "columns 'a' and 'b' name the same"),
        (AB.replace("L0,i0,x,y,x", "L0,i0,x,y,w"), [], "'preferred' is not the row's a, b or none"),
        (ABX.replace("L0,i0,p,q,q,q", "L0,i0,p,q,q,r"), [], "'answer' is not the row's a or b"),
        (ACR.replace("L0,i0,base,1", "L0,i0,base,0"), ["--test-type", "acr"], "outside 1 to 5"),
        (ACR.replace("L0,i0,base", "L0,i0,ba\x00se"), ["--test-type", "acr"], "NUL character"),
        ("listener,item,a,b\nL,i,x,y\n", ["--test-type", "cmos"], "missing column(s): score"),
        ("listener;item;a;b;score\n", [], "separated by semicolons"),
    ],
)
def test_bad_rows_end_with_exit_2_and_one_line(tmp_path, capsys, content, args, needle):
    message = error_line(capsys, write(tmp_path, content), *args)
    assert message.startswith("ratings.csv: ") and needle in message


def test_mushra_json_gains_only_its_test_type(tmp_path, capsys):
    path = tmp_path / "mushra.csv"
    mushra_ratings(6, 4, 4, seed=2).to_csv(path, index=False)
    data = run_json(capsys, str(path), "--bootstrap", "100", "--mixed-model", "none")
    expected = analyze(read_ratings(path), Spec(n_boot=100, mixed="none")).to_dict()
    assert data == {"test_type": "mushra", **expected}


def likert(values: list[str], scales: int = 1) -> str:
    """webMUSHRA's lss.csv (service/write.php): session_test_id, the questionnaire, trial_id,
    stimuli_rating (or stimuli_rating1..k), stimuli, rating_time."""
    ratings = (
        ["stimuli_rating"] if scales == 1 else [f"stimuli_rating{i + 1}" for i in range(scales)]
    )
    header = ["session_test_id", "email", "trial_id", *ratings, "stimuli", "rating_time"]
    rows = [
        ["t", f"p{k % 3}@x", f"lss{k // 6}", *([v] * scales), ["c1", "c2"][k % 2], "900"]
        for k, v in enumerate(values)
    ]
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def test_webmushra_likert_file_with_ratings_1_to_5_is_acr(tmp_path, capsys):
    values = [" 4 ", "2", "5", "3", "NA", "4", "1", "2", "5", "3", "4", "2"]
    data = run_json(capsys, write(tmp_path, likert(values), "lss.csv"))
    assert data["test_type"] == "acr" and data["n_ratings"] == 11 and data["n_listeners"] == 3
    assert data["notes"] == ["1 row(s) rated 'NA' (not rated) are left out"]
    data = run_json(capsys, write(tmp_path, likert(values), "lss.csv"), "--test-type", "smos")
    assert data["measure"] == "SMOS"


@pytest.mark.parametrize(
    ("values", "scales", "needle"),
    [
        (
            ["a bit", "much"],
            1,
            "not the values 1 to 5 of a five-point scale (found 'a bit', 'much'",
        ),
        (["4", "7"], 1, "found '7', first in row 1"),
        (["4", "3"], 2, "the Likert file has 2 scales (stimuli_rating1, stimuli_rating2)"),
    ],
)
def test_webmushra_likert_file_that_is_not_a_five_point_scale_is_refused(
    tmp_path, capsys, values, scales, needle
):
    assert needle in error_line(capsys, write(tmp_path, likert(values, scales), "lms.csv"))


def test_webmushra_likert_errors_name_the_row_of_the_file(tmp_path, capsys):
    content = likert(["NA", "4", "3\x00"])
    assert "contains a NUL character in row 2" in error_line(capsys, write(tmp_path, content))
    content = likert(["NA", "4", "3", "2", "5", "1", "4"]).replace("lss1", "lss0")
    message = error_line(capsys, write(tmp_path, content))
    assert "duplicate rating in row 6 (listener=p0@x, item=lss0, condition=c1)" in message


def test_webmushra_likert_file_is_not_mushra(tmp_path, capsys):
    path = write(tmp_path, likert(["4", "3"]), "lss.csv")
    message = error_line(capsys, path, "--test-type", "mushra")
    assert "Likert (lss/lms.csv), which is analysed as acr or smos, not mushra" in message


def test_platform_frame_with_numbers_is_analysed_like_a_csv():
    df = pd.read_csv(io.StringIO(AB))
    df["listener"] = df["listener"].str[1:].astype(int)  # the platform's numeric ids
    df["item"] = df["item"].str[1:].astype(int)
    data = analyze_any(df).to_dict()
    assert data["test_type"] == "ab" and data["pairs"][0]["n"] == 20 and data["n_listeners"] == 5
