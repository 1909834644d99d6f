"""The demo's listening test: built and opened once the demo's stimuli are ready.

`make demo` queues the synthesis before the worker starts, so the test cannot open during
seeding; the launcher calls ``demo_test_step`` until it answers with a listener link.
"""

from evalsite.errors import InputError
from mushra.models import ListeningTest
from mushra.services import (
    SystemCondition,
    listening_test_create,
    listening_test_metrics_request,
    listening_test_open,
)
from synth_workers.demo import CORPUS, ESPEAK, KOKORO, KOKORO_CONDITION, TRANSFER
from synth_workers.models import Corpus, MetricRequest, Stimulus, System

SLUG = "demo"
# The plain Piper rendering is left out: the demo's stand-in recordings are that same rendering.
CONDITIONS = [
    (ESPEAK, {"style": "neutral"}),
    (ESPEAK, {"style": "newscaster"}),
    (TRANSFER, {}),
    (KOKORO, KOKORO_CONDITION),
]
# 5 recordings + 10 anchors + 5 Piper + 10 espeak-ng + 5 transfer + 5 Kokoro.
STIMULI = 40


def demo_test_step() -> tuple[str, str]:
    """("open", slug) once the test is open; ("waiting", "n/m stimuli ready"); or ("skip", why)."""
    test = ListeningTest.objects.filter(slug=SLUG).first()
    if test and test.status == ListeningTest.Status.OPEN:
        return "open", SLUG
    corpus = Corpus.objects.filter(name=CORPUS).first()
    if corpus is None or corpus.recordings is None:
        return "skip", "the demo corpus has no recordings (an older demo folder: delete var/)"
    stimuli = Stimulus.objects.filter(utterance__corpus=corpus)
    ready, total = stimuli.filter(status="ready").count(), stimuli.count()
    if stimuli.filter(status="failed").exists():
        return "skip", "some demo stimuli failed; see the admin's stimulus list"
    if ready < total or total < STIMULI:
        return "waiting", f"{ready}/{STIMULI} demo stimuli ready"
    if test is None:
        test = listening_test_create(
            name="Demo: naturalness",
            slug=SLUG,
            corpus=corpus,
            systems=[
                SystemCondition(System.objects.get(name=name), condition)
                for name, condition in CONDITIONS
            ],
            instructions=(
                "This is the platform's demo test. Its *reference* is a synthetic stand-in for "
                "natural recordings, so the hidden reference sounds synthetic too."
            ),
        )
    listening_test_open(test=test)
    return "open", SLUG


def demo_metrics() -> str:
    """Queue the objective metrics of the open demo test's stimuli (once), for its report."""
    test = ListeningTest.objects.get(slug=SLUG)
    if MetricRequest.objects.filter(corpus=test.corpus).exists():
        return "objective metrics requested earlier"
    try:
        queued = listening_test_metrics_request(test=test)
    except InputError as exc:
        return f"no objective metrics: {exc.message}"
    return f"objective metrics of {queued} stimuli queued on the worker"
