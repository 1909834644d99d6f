"""The demo's listening test: built and opened once the demo's stimuli are ready.

`make demo` queues the synthesis before the worker starts, so the test cannot open during
seeding; the launcher calls ``demo_test_step`` until it answers with a listener link.
"""

from mushra.models import ListeningTest
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from synth_workers.demo import CORPUS, ESPEAK, TRANSFER
from synth_workers.models import Corpus, Stimulus, System

SLUG = "demo"
# The plain Piper rendering is left out: the demo's stand-in recordings are that same rendering.
CONDITIONS = [(ESPEAK, {"style": "neutral"}), (ESPEAK, {"style": "newscaster"}), (TRANSFER, {})]


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
    # 5 recordings + 10 anchors + 5 Piper + 10 espeak-ng + 5 transfer.
    if ready < total or total < 35:
        return "waiting", f"{ready}/35 demo stimuli ready"
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
