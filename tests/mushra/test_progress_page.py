"""The test's page follows its listeners (issue 14): the funnel and sessions over time as
pictures with their numbers, quotas, screening outcomes, time per trial and the fast flag, the
listener table; sessions.csv for payments; the ratings export's timing columns; the optional
fast-rater rule; the report's sentences on the screening that ran.

Sessions are real rows made through the services; only their clock is set by hand (the
submission and start times), so every time and flag has an exact expected value.
"""

import csv
import io
import json
from datetime import UTC, timedelta

import pandas as pd
import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from mushra.analysis.timing import RULE_FAST, TIMING_COLUMNS
from mushra.models import (
    AttentionCheck,
    ConditionStimulus,
    HeadphoneAnswer,
    ListeningTest,
    Session,
    Trial,
)
from mushra.progress_reads import funnel, listener_rows
from mushra.rating_reads import ratings_frame, strata_choices
from mushra.sessions import session_consent, session_start, trial_submit
from tests.support.listening import at_trials, open_test

# A few hours ago, on the hour: the page draws a span of hours by hour.
T0 = (timezone.now() - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)


def _rate(session: Session, trial: Trial, plays: int = 2, listened_ms: int = 1500) -> None:
    ratings = {
        signal.public_id: {
            "score": 100 if signal.condition.role == "reference" else 60,
            "plays": plays,
            "listening_ms": listened_ms,
        }
        for signal in trial.signals.select_related("condition")
    }
    trial_submit(
        token=session.token, position=trial.position, key=f"submission-{trial.pk}", ratings=ratings
    )


def _listen(test, seconds: list[float], *, start=T0, **fields) -> Session:
    """A session that submits its trials (practice first) `seconds` apart on the clock."""
    session = at_trials(test)
    at = start
    Session.objects.filter(pk=session.pk).update(trials_started_at=at)
    for trial, secs in zip(session.trials.order_by("position"), seconds, strict=False):
        _rate(session, trial)
        at += timedelta(seconds=secs)
        Trial.objects.filter(pk=trial.pk).update(submitted_at=at)
    Session.objects.filter(pk=session.pk).update(**fields)
    session.refresh_from_db()
    return session


def _headphone(session: Session, right: int) -> None:
    HeadphoneAnswer.objects.bulk_create(
        HeadphoneAnswer(session=session, kind="antiphase", position=i, answer=0, correct=i < right)
        for i in range(6)
    )


@pytest.fixture
def followed(db, tmp_path):
    """Two items, two trials a session after a practice trial: a listener in each outcome."""
    test = open_test(tmp_path, n_items=2, trials_per_session=2, slug="followed")
    done = {"outcome": "completed", "stage": "done", "finished_at": T0 + timedelta(hours=2)}
    # The crowd site's ids as the entry URL brought them (one shaped like a formula).
    crowd = {"PROLIFIC_PID": "=HYPERLINK(1)", "STUDY_ID": "st1", "SESSION_ID": "se1"}
    fast = _listen(test, [30, 2, 2], crowd=crowd, screening_passed=True, **done)  # S1
    slow = _listen(test, [30, 30, 40], screening_passed=True, **done)  # S2
    timed_out = _listen(
        test, [20, 10], screening_passed=True, outcome="timed_out", stage="done",
        finished_at=T0 + timedelta(hours=1),
    )  # fmt: skip  # S3: one real trial, not rushed
    screened = session_start(test=test)  # S4: failed the headphone check
    session_consent(session=screened)
    Session.objects.filter(pk=screened.pk).update(
        outcome="screened_out", stage="done", screening_passed=False
    )
    session_start(test=test)  # S5: entered only
    released = session_start(test=test)  # S6: idle, its items given back
    Session.objects.filter(pk=released.pk).update(released_at=T0)
    session_start(test=test, preview=True)  # counted nowhere
    for session, right in ((fast, 6), (slow, 5), (timed_out, 5)):
        _headphone(session, right)
    _headphone(screened, 2)
    catch = slow.trials.get(position=2)  # recorded as an attention check of S2 (passed)
    AttentionCheck.objects.create(
        session=slow, trial=catch, catch_score=20, reference_score=100, passed=True
    )
    AttentionCheck.objects.create(  # passed
        session=fast, trial=fast.trials.get(position=2), catch_score=20, reference_score=80,
        passed=True,
    )  # fmt: skip
    AttentionCheck.objects.create(  # failed (never rated: no ratings for the analysis to drop)
        session=screened, trial=screened.trials.get(position=2), catch_score=90,
        reference_score=80, passed=False,
    )  # fmt: skip
    Session.objects.filter(test=test).update(created_at=T0)
    ListeningTest.objects.filter(pk=test.pk).update(
        headphone_check="antiphase", attention_checks=1, time_limit_minutes=30
    )
    test.refresh_from_db()
    return test


def _audio(test) -> dict[str, float]:
    """Seconds of audio in a trial of each item: its conditions' stimuli, summed."""
    rows = ConditionStimulus.objects.filter(test=test).values("utterance__key")
    return {r["utterance__key"]: r["s"] for r in rows.annotate(s=Sum("stimulus__duration"))}


def test_the_page_shows_the_funnel_and_the_sessions_over_time(followed, admin_client):
    page = admin_client.get(f"/mushra/tests/{followed.pk}/").content.decode()
    funnel = page.split('id="funnel"')[1].split("</table>")[0]
    cells = [c.split("</td>")[0] for c in funnel.split("<td")[1:]]
    numbers = dict(zip(cells[::2], (c.split(">")[-1] for c in cells[1::2]), strict=True))
    numbers = {k.split(">")[-1]: int(v) for k, v in numbers.items()}
    assert numbers == {
        "Entered": 6,
        "Consented": 4,
        "Passed screening": 3,
        "Started the trials": 3,
        "Finished": 2,
        "Screened out": 1,
        "Timed out": 1,
    }
    # The pictures: inline SVG whose text alternative carries the same numbers.
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert '<desc id="funnel-desc">Entered: 6; Consented: 4; Passed screening: 3;' in page
    assert page.count("<rect ") >= 7
    assert "sessions started, 2 finished." in page.split('id="timeline-desc"')[1]
    assert "6 sessions started" in page
    assert "1 released so far" in page
    assert "items at quota: 0 of 2" in page and "taking listeners" in page


def test_progress_json_carries_the_same_numbers_and_pictures(followed, admin_client):
    data = admin_client.get(f"/mushra/tests/{followed.pk}/progress.json").json()
    assert data["funnel"]["entered"] == 6 and data["funnel"]["released"] == 1
    assert data["sessions_started"] == 6  # the earlier keys stay
    assert data["charts"]["funnel"].startswith("<svg") and "<desc" in data["charts"]["timeline"]
    assert data["over_time"]["unit"] == "hour"  # a span of hours
    last = data["over_time"]["buckets"][-1]
    assert (last["started"], last["finished"]) == (6, 2)
    assert data["quotas"] == {
        "ratings_wanted": 20,
        "items": 2,
        "items_at_quota": 0,
        "full": False,
        "abandon_after_minutes": 60,
    }


def test_the_page_shows_screening_outcomes(followed, admin_client):
    page = admin_client.get(f"/mushra/tests/{followed.pk}/").content.decode()
    screening = page.split('id="screening"')[1].split("</table>")[0]
    assert "3 passed, 1 failed" in screening  # headphone check, per session
    assert "3 of 4 passed (75 %), 1 failed" in screening  # antiphase, per kind
    assert '<span id="attention-counts">2 passed, 1 failed</span>' in screening
    assert "30 minutes: 1 timed out" in screening


def test_time_per_trial_and_the_fast_flag(followed, admin_client):
    audio = _audio(followed)
    assert all(7 < a < 8 for a in audio.values())  # five signals of 1.5 s each
    page = admin_client.get(f"/mushra/tests/{followed.pk}/").content.decode()
    summary = page.split('id="timing-summary"')[1].split("</p>")[0]
    # Rated trials: S1 2 s and 2 s, S2 30 and 40 s, S3 10 s → median 10 s; practice 30, 30, 20.
    assert "Median time per trial: 10.0 s" in summary
    assert "(practice: 30.0 s," in summary
    assert "1 of 3 listeners flagged fast" in summary and "(2 of 5 trials rushed)" in summary
    table = page.split('id="listeners"')[1].split("</table>")[0]
    rows = table.split("<tr")[2:]
    assert [r.split("<td>")[1].split("<")[0] for r in rows] == [f"S{n}" for n in range(6, 0, -1)]
    s1 = rows[-1]
    assert 'class="fast"' in s1 and "(2 of 2 rushed)" in s1 and "antiphase 6/6" in s1
    assert ">2.0<" in s1 and ">1.5<" in s1  # median seconds and plays... and listening
    s2 = rows[-2]
    assert "fast" not in s2 and ">35.0<" in s2 and ">1/1<" in s2


def test_the_table_is_capped_and_links_the_full_csv(followed, admin_client):
    rows = listener_rows(followed, limit=2)
    assert [r["listener"] for r in rows] == ["S6", "S5"]
    page = admin_client.get(f"/mushra/tests/{followed.pk}/").content.decode()
    assert f'href="/mushra/tests/{followed.pk}/results/sessions.csv"' in page


def test_sessions_csv_has_a_row_per_session_for_payments(followed, admin_client):
    response = admin_client.get(f"/mushra/tests/{followed.pk}/results/sessions.csv")
    assert response["Content-Disposition"] == 'attachment; filename="followed-sessions.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["listener"] for r in rows] == [f"S{n}" for n in range(1, 7)]  # no preview
    api = admin_client.get(f"/api/v1/tests/{followed.pk}/results/sessions.csv")
    assert api.status_code == 200 and api.content == response.content
    s1, s2, s3, s4, s5, s6 = rows
    # A crowd id shaped like a formula stays readable but is text in a spreadsheet.
    assert s1["PROLIFIC_PID"] == "'=HYPERLINK(1)" and s1["STUDY_ID"] == "st1"
    assert s1["SESSION_ID"] == "se1" and s1["workerId"] == "" and s1["hitId"] == ""
    assert (s1["outcome"], s1["fast"], s1["rushed_trials"]) == ("completed", "yes", "2")
    assert s1["median_trial_seconds"] == "2" and s1["trials_rated"] == "2"
    assert s1["finished_at"] == (T0 + timedelta(hours=2)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:00:00Z"
    )
    assert (s1["attention_passed"], s1["attention_total"]) == ("1", "1")
    assert (s4["attention_passed"], s4["attention_total"]) == ("0", "1")
    assert s1["headphone_antiphase_correct"] == "6" and s1["headphone_huggins_correct"] == ""
    assert (s2["fast"], s2["median_trial_seconds"], s2["attention_passed"]) == ("no", "35", "1")
    assert (s3["outcome"], s3["median_trial_seconds"], s3["trials_rated"]) == (
        "timed_out",
        "10",
        "1",
    )
    assert (s4["outcome"], s4["screening_passed"], s4["headphone_antiphase_correct"]) == (
        "screened_out",
        "no",
        "2",
    )
    assert s4["consented_at"] and s4["median_trial_seconds"] == "" and s4["fast"] == "no"
    assert (s5["outcome"], s5["screening_passed"], s5["consented_at"]) == ("unfinished", "", "")


def test_the_ratings_export_carries_timing_but_the_strata_do_not(followed, admin_client):
    body = admin_client.get(f"/mushra/tests/{followed.pk}/results/ratings.csv").content.decode()
    df = pd.read_csv(io.StringIO(body))
    assert list(df.columns[-4:]) == list(TIMING_COLUMNS)
    audio = _audio(followed)
    by_listener = df.groupby("listener")
    s2 = by_listener.get_group("S2").sort_values("trial_seconds")
    assert sorted(set(s2["trial_seconds"])) == [30.0, 40.0]
    assert set(s2["plays"]) == {2} and set(s2["listening_ms"]) == {1500}
    assert set(df["audio_seconds"]) <= {round(a, 3) for a in audio.values()}
    assert set(by_listener.get_group("S1")["trial_seconds"]) == {2.0}
    assert len(by_listener.get_group("S1")) == 2 * 5  # practice ratings are not stored
    assert not {c for c, _ in strata_choices(followed)} & set(TIMING_COLUMNS)
    assert list(ratings_frame(followed).columns[-1:]) == ["native_language"]  # unchanged


def test_the_optional_rule_excludes_the_flagged_listener_only(followed, admin_client):
    url = f"/mushra/tests/{followed.pk}/results/analysis.json"
    plain = json.loads(admin_client.get(url).content)
    assert plain["n_listeners"] == 3 and RULE_FAST not in plain["screening"]["rules"]
    ruled = json.loads(admin_client.get(url, {"fast": "exclude"}).content)
    assert ruled["n_listeners"] == 2
    fast = [e for e in ruled["screening"]["excluded"] if e["rule"] == RULE_FAST]
    assert fast == [{"listener": "S1", "rule": RULE_FAST, "fraction": 1.0}]
    page = admin_client.get(f"/mushra/tests/{followed.pk}/").content.decode()
    assert 'name="fast" value="exclude"' in page


def test_the_report_says_which_screening_ran(followed, admin_client):
    html = admin_client.get(
        f"/mushra/tests/{followed.pk}/results/report.html", {"fast": "exclude"}
    ).content.decode()
    checks = html.split('id="listener-checks">')[1].split("</p>")[0]
    assert (
        "an antiphase-tone headphone check (Woods et al. 2017), passed with at least 5 of 6 "
        "correct answers: 3 passed and 1 failed" in checks
    )
    assert "There was no volume calibration." in checks
    assert "Each session held 1 attention check" in checks and "2 passed and 1 failed." in checks
    assert "time limit of 30 minutes from consent; 1 session ran out of time." in checks
    assert "faster than the audio" in html and "excluded too: 1 listener." in html


def test_the_page_costs_the_same_queries_however_many_sessions(followed, admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    page, data = f"/mushra/tests/{followed.pk}/", f"/mushra/tests/{followed.pk}/progress.json"
    before = (queries(page), queries(data))
    test = ListeningTest.objects.filter(pk=followed.pk)
    # Straight to the trials, and no new kind of trial (on SQLite a kind's median is a query).
    test.update(headphone_check="", attention_checks=0)
    followed.refresh_from_db()
    for seconds in ([30, 2, 2], [30, 20, 20], [30, 9, 9]):
        _listen(followed, seconds, screening_passed=True)
    session_start(test=followed)
    test.update(headphone_check="antiphase", attention_checks=1)  # the same page sections
    assert (queries(page), queries(data)) == before


def test_the_report_command_writes_sessions_csv_and_may_exclude_fast_raters(followed, tmp_path):
    out = tmp_path / "report"
    call_command("report", followed.slug, "--out", str(out), "--exclude-fast", "--bootstrap", "50")
    data = json.loads((out / "analysis.json").read_text())
    assert [e["listener"] for e in data["screening"]["excluded"]] == ["S1"]
    assert (out / "sessions.csv").read_text().startswith("listener,PROLIFIC_PID,")


def test_a_listener_still_taking_the_check_has_not_passed_it(followed):
    session_consent(session=session_start(test=followed))  # consented, no verdict yet
    counts = funnel(followed)
    assert (counts["consented"], counts["passed_screening"]) == (5, 3)
    ListeningTest.objects.filter(pk=followed.pk).update(headphone_check="")
    followed.refresh_from_db()
    assert funnel(followed)["passed_screening"] == 4  # no check: consented, not screened out


def test_with_bs1534_off_the_fast_rule_still_lists_its_exclusions(followed, admin_client):
    html = admin_client.get(
        f"/mushra/tests/{followed.pk}/results/report.html", {"fast": "exclude", "screening": "off"}
    ).content.decode()
    screening = html.split("<h2>Listener screening</h2>")[1].split("<h2>")[0]
    assert "and the fast-rater rule" in screening
    assert f"<td>S1</td><td>{RULE_FAST}</td>" in screening
    assert "every listener is analysed" not in screening
    assert "excluded too: 1 listener." in html


def test_the_rating_counts_match_the_stored_ratings(db, tmp_path):
    """The counts come from the saved real trials (every one rates every condition): they equal
    the Rating rows, with practice, catch trials, previews and unsaved trials left out."""
    from django.db.models import Count

    from mushra.models import Rating
    from mushra.selectors import listening_test_progress

    test = open_test(tmp_path, n_items=4, slug="counts", training=True, attention_checks=1)
    for n_trials in (5, 2, 0):  # practice + 4 real + 1 catch; part of them; none
        session = at_trials(test)
        for trial in session.trials.order_by("position")[:n_trials]:
            _rate(session, trial)
    preview = session_start(test=test, preview=True)
    session_consent(session=preview)
    progress = listening_test_progress(test)
    stored = Rating.objects.filter(session__test=test, session__preview=False)
    assert progress["ratings"] == stored.count() > 0
    per_condition = dict(stored.values_list("condition__label").annotate(n=Count("pk")))
    assert {c["label"]: c["ratings"] for c in progress["conditions"]} == per_condition
    n_conditions = test.conditions.count()
    per_item = dict(stored.values_list("trial__utterance__key").annotate(n=Count("pk")))
    assert {i["key"]: i["listeners"] * n_conditions for i in progress["items"]} == {
        u.key: per_item.get(u.key, 0) for u in test.chosen_utterances()
    }
