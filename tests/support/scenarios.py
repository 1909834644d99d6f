"""What every paper scenario does: stand-in recordings, a corpus import, registrations and jobs
through the real worker, simulated listeners with known means, metrics measured by the worker.

No natural recordings ship with the platform, so a corpus' "recordings" are renderings made here
by a built-in voice (as ``synth_workers.demo`` does); everything after the import — preparation,
synthesis, anchors, sessions, ratings, metrics and analysis — is the platform's own code, and
synthesis, preparation and measurement run on the worker.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from evalsite.errors import InputError
from mushra.metric_reads import listening_test_metric_scope
from mushra.models import ListeningTest
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.services import listening_test_metrics_request as metrics_request
from mushra.sessions import session_questionnaire, trial_submit
from synth_workers import audio
from synth_workers.backends import SynthRequest, get_backend
from synth_workers.models import Corpus, Stimulus, SynthesisJob, System
from synth_workers.selectors import metric_scope_progress
from synth_workers.services import corpus_import
from synth_workers.services.registration import system_register
from synth_workers.services.synthesis import job_create
from tests.support.listening import at_trials
from tests.support.services import wait_for

LISTENERS = 4  # even: the ± offsets below cancel, so each condition's mean is exactly its target
ROLE_MEANS = {"reference": 95, "anchor_low": 15, "anchor_mid": 40}


def render_here(backend: str, files: dict, config: dict, requests: list[SynthRequest]):
    """Stand-in recordings (or prosody references): a built-in voice rendered in this process."""
    voice = get_backend(backend)()
    voice.load(files, config, "cpu")
    return [_within_full_scale(clip) for clip in voice.synthesize(requests)]


def _within_full_scale(clip: audio.Audio) -> audio.Audio:
    """Kokoro's raw peaks may pass 1.0; an imported file must not (a worker scales its own)."""
    peak = float(abs(clip.samples).max())
    return clip if peak <= 0.95 else audio.Audio(clip.samples * (0.95 / peak), clip.sample_rate)


def import_corpus(folder: Path, name: str, rows: list[dict], audio_files: dict) -> Corpus:
    """The real corpus import of a manifest (``rows``: key, text, language, and file columns
    named after ``audio_files``' keys) with the audio written to ``folder``; its recordings and
    their anchors are then prepared by the worker."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["key", "text", "language", *audio_files]
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(columns)
    for row in rows:
        cells = [row["key"], row["text"], row["language"]]
        for column, clips in audio_files.items():
            audio.write_audio(clips[row["key"]], folder / f"{row['key']}-{column}.flac")
            cells.append(f"{row['key']}-{column}.flac")
        writer.writerow(cells)
    corpus_import(
        name=name,
        manifest_name="manifest.csv",
        manifest_data=manifest.getvalue().encode(),
        audio_path=folder,
    )
    return Corpus.objects.get(name=name)


def register(**kwargs) -> System:
    """Register a system; the worker's check makes it usable (``wait_usable``)."""
    return system_register(**kwargs)


def wait_usable(*systems: System) -> None:
    for system in systems:
        wait_for(
            lambda s=system: System.objects.get(pk=s.pk).check_error != "waiting for a worker",
            timeout=120,
            what=f"the check of {system.name}",
        )
        system.refresh_from_db()
        assert system.usable, f"{system.name}: {system.check_error}"


def synthesize(system: System, corpus: Corpus, **kwargs) -> SynthesisJob:
    return job_create(system=system, corpus=corpus, **kwargs)


def wait_rendered(corpus: Corpus, *jobs: SynthesisJob, timeout: float = 240) -> None:
    """Every job done without a failure, and every stimulus of the corpus prepared."""
    for job in jobs:
        wait_for(
            lambda j=job: (
                SynthesisJob.objects.get(pk=j.pk).status
                in (SynthesisJob.Status.DONE, SynthesisJob.Status.CANCELLED)
            ),
            timeout=timeout,
            what=f"the job of {job.system.name}",
        )
        job.refresh_from_db()
        assert (job.done, job.failed) == (job.total, 0), list(job.items.values_list("error"))
    stimuli = Stimulus.objects.filter(utterance__corpus=corpus)
    wait_for(lambda: not stimuli.filter(status="pending").exists(), 120, "preparation")
    assert not stimuli.exclude(status="ready").exists(), list(stimuli.values_list("error"))


def open_test(corpus: Corpus, slug: str, systems: list[SystemCondition]) -> ListeningTest:
    test = listening_test_create(
        name=slug.replace("-", " ").title(),
        slug=slug,
        corpus=corpus,
        systems=systems,
        trials_per_session=corpus.utterances.count(),
    )
    return listening_test_open(test=test)


def rate(test: ListeningTest, means: dict[str, float], n_listeners: int = LISTENERS) -> None:
    """Simulated listeners through the real session services: every listener rates every trial,
    each condition (by label; hidden reference and anchors by role) at its mean ± 3 by listener,
    so the stored ratings average exactly ``means`` and every paired difference has one sign."""
    for n in range(n_listeners):
        session = at_trials(test)
        trials = session.trials.prefetch_related("signals__condition")
        for trial in trials:
            ratings = {}
            for signal in trial.signals.all():
                condition = signal.condition
                mean = ROLE_MEANS.get(condition.role) or means[condition.label]
                ratings[signal.public_id] = {"score": mean + (3 if n % 2 else -3), "plays": 1}
            key = f"{test.slug}-{n}-{trial.position}"
            trial_submit(token=session.token, position=trial.position, key=key, ratings=ratings)
        session.refresh_from_db()
        answers = {"age_band": "25-34", "headphones": "closed headphones", "native_language": "en"}
        session_questionnaire(session=session, answers=answers)


def measure(test: ListeningTest, names: list[str]) -> None:
    """The test's "Measure objective metrics" request, narrowed to ``names``; the worker
    measures each stimulus of the test's systems and the wait ends when all are measured."""
    try:
        metrics_request(test=test, names=names)
    except InputError as exc:  # the metrics extra is not installed here
        raise AssertionError(exc.message) from None
    scope = listening_test_metric_scope(test)

    def done() -> bool:
        progress = metric_scope_progress(scope, names)
        return progress["measured"] == progress["ready"]

    wait_for(done, timeout=180, what=f"the metrics {names}")
