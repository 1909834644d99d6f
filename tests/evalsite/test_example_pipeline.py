"""examples/evaluate_checkpoint.py, run as users run it: a separate process that knows only the
URL and a token, against a live server and a real Celery worker.

The worker renders the Piper voice (the "checkpoint") and prepares every stimulus; the server is
pytest-django's live server, in this process, so the test reads what the script made straight
from the database. Listeners are simulated through the session services, as in
tests/mushra/test_results.py, since the script's part ends at the listener link.
"""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from evalsite.services import project_create, token_create
from mushra.models import ConditionStimulus, ListeningTest
from mushra.sessions import (
    session_begin_trials,
    session_consent,
    session_questionnaire,
    session_start,
    trial_submit,
)
from synth_workers.backends.piper import joe_voice_files
from synth_workers.models import Corpus, Stimulus, SynthesisJob, System
from synth_workers.services import corpus_import, rendered_import
from tests.support.audio import write_tone
from tests.support.paths import ROOT
from tests.support.services import wait_for

pytestmark = pytest.mark.slow
EXAMPLE = ROOT / "examples" / "evaluate_checkpoint.py"
N_ITEMS = 3
# What the simulated listeners give each condition (by role, or by system for the two under test).
SCORES = {"reference": 95, "anchor_low": 15, "anchor_mid": 40, "Joe step 1": 70, "Baseline": 50}


def run_example(url: str, token: str, *args: str) -> subprocess.CompletedProcess:
    """The script as a pipeline runs it: its own process, the token in its environment."""
    env = {**os.environ, "EVALSITE_TOKEN": token}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", url, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def lab_with_corpus(tmp_path, name: str = "Lab"):
    """A scientist's project with an API token and a corpus of natural recordings."""
    user = get_user_model().objects.create_user(f"{name.lower()}-scientist", password="pw")
    project = project_create(name=name, owner=user)
    _, token = token_create(user=user, name="training pipeline")
    rows = ["key,text,recording"]
    for i in range(N_ITEMS):
        write_tone(tmp_path / name / f"item{i}.wav", seconds=1.5, freq=180 + 20 * i, seed=i)
        rows.append(f"item{i},This is test sentence number {i + 1}.,item{i}.wav")
    corpus_import(
        name=f"{name} sentences",
        manifest_name="manifest.csv",
        manifest_data="\n".join(rows).encode(),
        audio_path=tmp_path / name,
        default_language="en-us",  # the Piper voice's language
        project_id=project.pk,
    )
    corpus = Corpus.objects.get(name=f"{name} sentences")
    return SimpleNamespace(user=user, project=project, token=token, corpus=corpus)


@pytest.fixture
def lab(transactional_db, worker_media, tmp_path):
    """The lab and a baseline system with pre-rendered audio; the worker prepares it all (the
    recordings' anchors too) in the media folder the live server reads."""
    lab = lab_with_corpus(tmp_path)
    for i in range(N_ITEMS):
        write_tone(tmp_path / "baseline" / f"item{i}.wav", seconds=1.5, freq=300 + 10 * i, seed=9)
    rendered_import(corpus=lab.corpus, system_name="Baseline", audio_path=tmp_path / "baseline")
    wait_for(lambda: not Stimulus.objects.filter(status="pending").exists(), what="preparation")
    assert not Stimulus.objects.exclude(status="ready").exists()
    return lab


def listen(test: ListeningTest, n: int) -> None:
    """One listener from consent to the questionnaire, rating by SCORES (a point apart each)."""
    session = session_start(test=test)
    session_consent(session=session)
    session_begin_trials(session=session)
    for trial in session.trials.prefetch_related("signals__condition__system"):
        ratings = {}
        for signal in trial.signals.all():
            condition = signal.condition
            key = condition.system.name if condition.role == "system" else condition.role
            ratings[signal.public_id] = {"score": SCORES[key] + n, "plays": 1}
        submission = f"listener-{n}-trial-{trial.position}"  # as the player sends one
        trial_submit(token=session.token, position=trial.position, key=submission, ratings=ratings)
    session.refresh_from_db()
    if session.stage == "questionnaire":
        answers = {"age_band": "25-34", "headphones": "closed headphones", "native_language": "en"}
        session_questionnaire(session=session, answers=answers)


def test_the_example_registers_renders_and_opens_a_test_then_fetches_its_results(
    lab, live_server, tmp_path
):
    voice = joe_voice_files()
    pipeline = [
        "--project", str(lab.project.pk), "--corpus", str(lab.corpus.pk),
        "--baseline", "Baseline", "--name", "Joe step 1",
        "--file", f"model={voice['model']}", "--file", f"config={voice['config']}",
    ]  # fmt: skip
    run = run_example(live_server.url, lab.token, *pipeline)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"send listeners to {live_server.url}/t/joe-step-1/" in run.stdout
    assert f"rendering: {N_ITEMS}/{N_ITEMS} done, 0 failed" in run.stdout

    test = ListeningTest.objects.get(slug="joe-step-1")
    new = System.objects.get(name="Joe step 1")
    assert test.status == "open" and test.project_id == new.project_id == lab.project.pk
    assert set(test.conditions.values_list("label", flat=True)) == {
        "Joe step 1", "Baseline", "Hidden reference", "Low anchor (3.5 kHz)", "Mid anchor (7 kHz)",
    }  # fmt: skip
    # The new system's stimuli in the test are the worker's Piper renderings, prepared.
    frozen = ConditionStimulus.objects.filter(test=test, condition__system=new)
    stimuli = [f.stimulus for f in frozen.select_related("stimulus")]
    assert len(stimuli) == N_ITEMS
    assert {(s.status, s.provenance["backend"]) for s in stimuli} == {("ready", "piper")}

    # Rerun as after a timeout: the Idempotency-Keys answer as the first time, nothing is made
    # twice and the open test is left as it is.
    again = run_example(live_server.url, lab.token, *pipeline)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"send listeners to {live_server.url}/t/joe-step-1/" in again.stdout
    assert System.objects.filter(name="Joe step 1").count() == 1
    assert SynthesisJob.objects.filter(system=new).count() == 1
    assert ListeningTest.objects.filter(project=lab.project).count() == 1

    for n in range(2):
        listen(test, n)
    out = tmp_path / "analysis.json"
    results = run_example(
        live_server.url, lab.token, "--results", str(test.pk), "--wait-ratings", "2",
        "--gap", "Joe step 1:Baseline:Hidden reference", "--out", str(out),
    )  # fmt: skip
    assert results.returncode == 0, results.stdout + results.stderr
    assert "listeners finished: 2/2" in results.stdout
    analysis = json.loads(out.read_text())
    means = {c["condition"]: c["mean"] for c in analysis["conditions"]}
    assert means["Hidden reference"] == pytest.approx(95.5)
    assert means["Joe step 1"] == pytest.approx(70.5) and means["Baseline"] == pytest.approx(50.5)
    assert set(means) == set(test.conditions.values_list("label", flat=True))
    assert "Joe step 1" in results.stdout and "70.5" in results.stdout
    # The gap asked for: (70.5 - 50.5) / (95.5 - 50.5) of the way from baseline to reference.
    assert analysis["gaps"][0]["gap_closure_pct"] == pytest.approx(100 * 20 / 45)
    assert "gap closed by Joe step 1: 44.4 %" in results.stdout


def test_the_example_prints_the_apis_refusal_and_exits_1(transactional_db, live_server, tmp_path):
    lab = lab_with_corpus(tmp_path, "Ours")
    theirs = lab_with_corpus(tmp_path, "Theirs")
    voice = joe_voice_files()
    args = [
        "--project", str(lab.project.pk), "--baseline", "Baseline", "--name", "Joe",
        "--file", f"model={voice['model']}",
    ]  # fmt: skip

    wrong_token = run_example(live_server.url, "0" * 64, *args, "--corpus", str(lab.corpus.pk))
    assert wrong_token.returncode == 1, wrong_token.stdout + wrong_token.stderr
    assert "/api/v1/corpora/" in wrong_token.stderr
    assert "http 401: invalid token" in wrong_token.stderr.lower()

    # Another lab's corpus does not exist for this token (a 404, as the access policy says).
    other = run_example(live_server.url, lab.token, *args, "--corpus", str(theirs.corpus.pk))
    assert other.returncode == 1, other.stdout + other.stderr
    assert f"/api/v1/corpora/{theirs.corpus.pk}/: HTTP 404: not found" in other.stderr

    missing_name = run_example(live_server.url, lab.token, "--project", "1", "--corpus", "1")
    assert missing_name.returncode == 2 and "--baseline, --name required" in missing_name.stderr
    assert not System.objects.filter(name="Joe").exists()
