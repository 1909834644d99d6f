"""The report's sentences on the screening a test ran, sessions.csv's cells and the page's
pictures, on plain data (the platform's side: tests/mushra/test_progress_page.py)."""

import csv
import io

from mushra.progress_charts import funnel_svg, timeline_svg
from mushra.reports.exports import SESSION_COLUMNS, csv_cell, sessions_csv
from mushra.reports.methods import listener_checks

CHECKS = {
    "headphone_check": "both",
    "headphone_pass_at": 5,
    "headphone_trials": 6,
    "headphone_passed": 40,
    "headphone_failed": 7,
    "volume_calibration": True,
    "attention_checks": 2,
    "attention_passed": 75,
    "attention_failed": 5,
    "time_limit_minutes": 1,
    "timed_out": 3,
}


def test_one_sentence_each_on_the_screening_that_ran():
    assert listener_checks(CHECKS) == [
        "Before the practice trial, listeners took two headphone checks, antiphase tones "
        "(Woods et al. 2017) then Huggins pitch (Milne et al. 2021), passed with at least 5 of 6 "
        "correct answers each: 40 passed and 7 failed (and were screened out).",
        "Before the trials, listeners set a comfortable volume on a noise at the test's loudness "
        "(volume calibration).",
        "Each session held 2 attention checks (a catch trial whose clearly degraded copy is to be "
        "rated below the hidden reference): 75 passed and 5 failed.",
        "Sessions had a time limit of 1 minute from consent; 3 sessions ran out of time.",
    ]


def test_a_test_without_screening_says_so_and_outside_ratings_say_nothing():
    none = {**CHECKS, "headphone_check": "", "volume_calibration": False}
    none |= {"attention_checks": 0, "time_limit_minutes": None}
    assert listener_checks(none) == [
        "Listeners took no headphone check.",
        "There was no volume calibration.",
        "There were no attention checks.",
        "Sessions had no time limit.",
    ]
    assert listener_checks(None) == []  # a CSV analysed with python -m mushra.analysis


def test_csv_cells_never_start_a_formula_and_keep_the_id_readable():
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    for text in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("5f0c2a") == "5f0c2a"
    assert (csv_cell(None), csv_cell(True), csv_cell(False)) == ("", "yes", "no")
    assert (csv_cell(12.5), csv_cell(35.0), csv_cell(1 / 3), csv_cell(0)) == (
        "12.5",
        "35",
        "0.333",
        "0",
    )


def test_sessions_csv_has_its_columns_in_order_even_when_empty():
    assert sessions_csv([]).splitlines() == [",".join(SESSION_COLUMNS)]
    rows = list(csv.DictReader(io.StringIO(sessions_csv([{"listener": "S1", "fast": True}]))))
    assert rows[0]["listener"] == "S1" and rows[0]["fast"] == "yes" and rows[0]["hitId"] == ""


def test_the_pictures_carry_their_numbers_as_text():
    svg = funnel_svg([("Entered", 10), ("Finished", 4)], [("Timed out", 1)])
    assert '<desc id="funnel-desc">Entered: 10; Finished: 4; Timed out: 1</desc>' in svg
    assert svg.count("<rect ") == 3 and 'role="img"' in svg
    buckets = [
        {"at": "2026-12-06T09:00:00+00:00", "started": 3, "finished": 0},
        {"at": "2026-12-06T10:00:00+00:00", "started": 5, "finished": 2},
    ]
    line = timeline_svg(buckets, "hour")
    assert (
        "From 2026-12-06 09:00 to 2026-12-06 10:00 by hour: 5 sessions started, 2 finished." in line
    )
    assert line.count("<polyline") == 2
    assert "No sessions yet." in timeline_svg([], "hour")
