"""Results of the test types beside MUSHRA in the platform: the ratings stored by the listeners'
endpoints become the type's tidy table and its analysis, on the page, in the files and in the
report command. The numbers are checked against the ratings posted, computed here by hand."""

import io

import pandas as pd
import pytest
from django.core.management import call_command

from mushra.analysis import cli
from mushra.models import Rating
from mushra.rating_reads import ratings_frame
from mushra.results import ReportOptions
from mushra.results import listening_test_analysis as analysis_of
from mushra.typed_results import typed_frame, typed_summary
from tests.support.listening import (
    SYSTEM_NAMES,
    at_trials,
    open_test,
    pair_answers,
    post_ratings,
    prepared_corpus,
)


def rate_acr(client, test, scores_by_label: dict[str, int], sessions: int = 3):
    """Every trial of `sessions` sessions rated: each condition its label's score."""
    for _ in range(sessions):
        session = at_trials(test)
        for trial in session.trials.filter(training=False):
            ratings = {
                s.public_id: {"score": scores_by_label[s.condition.label], "plays": 1}
                for s in trial.signals.select_related("condition")
            }
            assert post_ratings(client, session, trial.position, ratings).status_code == 200


@pytest.fixture
def acr_test(db, tmp_path):
    return open_test(tmp_path, n_items=2, slug="acr-results", test_type="acr", training=False)


def test_an_acr_tests_analysis_has_the_mos_of_its_ratings(client, acr_test):
    wanted = {"Recordings": 5, SYSTEM_NAMES[0]: 4, SYSTEM_NAMES[1]: 2}
    rate_acr(client, acr_test, wanted)
    result = analysis_of(acr_test, ReportOptions())
    data = result.to_dict()
    assert data["test_type"] == "acr" and data["n_listeners"] == 3
    assert {c["condition"]: c["mean"] for c in data["conditions"]} == pytest.approx(wanted)
    assert data["n_ratings"] == Rating.objects.count() == 3 * 2 * 3


def test_the_results_files_of_an_acr_test_are_its_types_and_reanalyse_the_same(
    admin_client, client, acr_test, tmp_path, capsys
):
    rate_acr(client, acr_test, {"Recordings": 5, SYSTEM_NAMES[0]: 3, SYSTEM_NAMES[1]: 1})
    page = admin_client.get(f"/mushra/tests/{acr_test.pk}/").content.decode()
    assert "report.txt" in page and "Gap closure" not in page and "mushra.csv" not in page
    text = admin_client.get(f"/mushra/tests/{acr_test.pk}/results/report.txt")
    assert text.status_code == 200 and "MOS" in text.content.decode()
    assert admin_client.get(f"/mushra/tests/{acr_test.pk}/results/mushra.csv").status_code == 404
    exported = admin_client.get(f"/mushra/tests/{acr_test.pk}/results/ratings.csv")
    body = b"".join(exported.streaming_content) if exported.streaming else exported.content
    frame = pd.read_csv(io.BytesIO(body))
    assert set(frame["test_type"]) == {"acr"} and set(frame["score"]) == {1, 3, 5}
    path = tmp_path / "ratings.csv"
    path.write_bytes(body)
    assert cli.main([str(path), "--format", "json"]) == 0  # the test_type column names it
    assert '"test_type": "acr"' in capsys.readouterr().out


@pytest.mark.parametrize("test_type", ["cmos", "ab", "abx"])
def test_a_pair_tests_table_holds_each_trial_as_heard_and_answered(client, db, tmp_path, test_type):
    test = open_test(tmp_path, n_items=2, slug=test_type, test_type=test_type, training=False)
    session = at_trials(test)
    expected = []
    for k, trial in enumerate(session.trials.order_by("position")):
        a, b = trial.signals.order_by("order").select_related("condition")
        scores = {"cmos": [(-1, 1), (2, -2)], "ab": [(1, 0), (0.5, 0.5)], "abx": [(1, 0), (0, 1)]}
        a_score, b_score = scores[test_type][k]
        post_ratings(client, session, trial.position, pair_answers(trial, a_score, b_score))
        row = {"listener": f"S{session.number}", "item": trial.utterance.key,
               "a": a.condition.label, "b": b.condition.label}  # fmt: skip
        if test_type == "cmos":
            row["score"] = b_score
        elif test_type == "ab":
            row["preferred"] = a.condition.label if a_score == 1 else ""
        else:
            x = a if trial.reference_stimulus_id == a.stimulus_id else b
            row["x"] = x.condition.label
            row["answer"] = (a if a_score == 1 else b).condition.label
        expected.append(row)
    frame = typed_frame(test)
    assert frame.drop(columns="test_type").to_dict("records") == expected
    data = analysis_of(test, ReportOptions()).to_dict()
    assert data["test_type"] == test_type and data["n_listeners"] == 1


def test_abx_proportion_correct_counts_the_answers_that_named_x(client, db, tmp_path):
    test = open_test(tmp_path, n_items=3, slug="abx-count", test_type="abx", training=False)
    correct = 0
    for _ in range(2):
        session = at_trials(test)
        for k, trial in enumerate(session.trials.order_by("position")):
            a, b = trial.signals.order_by("order")
            right = trial.reference_stimulus_id == a.stimulus_id
            say_a = right if k % 3 else not right  # every third answer wrong
            correct += say_a == right
            post_ratings(
                client, session, trial.position, pair_answers(trial, int(say_a), int(not say_a))
            )
    result = analysis_of(test, ReportOptions())
    overall = result.to_dict()["overall"]
    assert (overall["correct"], overall["n"]) == (correct, 6)
    assert typed_summary(result)["n_ratings"] == 6  # the page counts ABX's trials


def test_a_typed_test_refuses_mushra_options_and_power_planning(admin_client, client, acr_test):
    from mushra.analysis import AnalysisError
    from mushra.planning_reads import plan_for_test

    rate_acr(client, acr_test, {"Recordings": 5, SYSTEM_NAMES[0]: 3, SYSTEM_NAMES[1]: 2})
    with pytest.raises(AnalysisError, match="MUSHRA analyses"):
        analysis_of(acr_test, ReportOptions(gaps=(("a", "b", "c"),)))
    with pytest.raises(AnalysisError, match="power planning is for MUSHRA tests"):
        plan_for_test(acr_test, None)


def test_the_report_command_writes_a_typed_tests_files(client, acr_test, tmp_path):
    rate_acr(client, acr_test, {"Recordings": 4, SYSTEM_NAMES[0]: 3, SYSTEM_NAMES[1]: 2})
    out = io.StringIO()
    call_command("report", acr_test.slug, "--out", str(tmp_path / "out"), stdout=out)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"report.txt", "analysis.json", "ratings.csv", "sessions.csv"} <= names


def test_mushra_without_reference_is_screened_without_the_reference_rule(client, db, tmp_path):
    test = open_test(tmp_path, n_items=2, slug="noref-results", test_type="mushra_noref",
                     training=False)  # fmt: skip
    session = at_trials(test)
    for trial in session.trials.all():
        ratings = {s.public_id: {"score": 40, "plays": 1} for s in trial.signals.all()}
        post_ratings(client, session, trial.position, ratings)
    data = analysis_of(test, ReportOptions(mixed="none", n_boot=100)).to_dict()
    rules = " ".join(str(r) for r in data["screening"]["rules"]).lower()
    assert "not applicable" in rules and data["screening"]["excluded"] == []


def test_gold_clips_exclude_the_listener_who_misses_them_and_stay_out_of_the_mos(
    client, db, tmp_path
):
    test = open_test(tmp_path, n_items=2, slug="acr-gold", test_type="acr", training=False,
                     anchors=("low",), gold=True)  # fmt: skip
    gold = dict(test.conditions.values_list("label", "gold_score"))
    assert gold == {"Recordings": 5, "Low anchor (3.5 kHz)": 1, **dict.fromkeys(SYSTEM_NAMES)}
    attentive = {"Recordings": 5, "Low anchor (3.5 kHz)": 2, SYSTEM_NAMES[0]: 4, SYSTEM_NAMES[1]: 3}
    rate_acr(client, test, attentive, sessions=2)
    rate_acr(client, test, {**attentive, "Recordings": 3}, sessions=1)  # S3 misses the gold
    data = analysis_of(test, ReportOptions()).to_dict()
    assert {e["listener"] for e in data["screening"]["excluded"]} == {"S3"}
    assert {c["condition"] for c in data["conditions"]} == set(SYSTEM_NAMES)
    assert {c["condition"]: c["mean"] for c in data["conditions"]} == {
        SYSTEM_NAMES[0]: 4,
        SYSTEM_NAMES[1]: 3,
    }
    frame = typed_frame(test, ratings_frame(test))
    assert set(frame.loc[frame["check"] == "gold", "condition"]) == {
        "Recordings", "Low anchor (3.5 kHz)"
    }  # fmt: skip


def test_gold_clips_are_refused_where_p808_does_not_define_them(db, tmp_path):
    from evalsite.errors import InputError
    from mushra.services import SystemCondition, listening_test_create
    from synth_workers.models import System

    corpus = prepared_corpus(tmp_path, 2)
    systems = [SystemCondition(System.objects.get(name=name)) for name in SYSTEM_NAMES]
    for test_type in ("mushra", "cmos", "abx"):
        with pytest.raises(
            InputError, match=f"gold clips are for ACR and SMOS tests, not {test_type}"
        ):
            listening_test_create(name="g", slug="g", corpus=corpus, systems=systems,
                                  test_type=test_type, gold=True)  # fmt: skip
