"""Systems, corpora and jobs for the synthesis tests that run on a real worker."""

from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.services.registration import system_register
from tests.support.factories import CorpusFactory, UtteranceFactory
from tests.support.services import wait_for


def usable_system(**kwargs) -> System:
    """A registered system once the worker's check has made it usable."""
    system = system_register(**kwargs)
    wait_for(
        lambda: System.objects.get(pk=system.pk).check_error != System.CHECK_PENDING,
        what="the registration check",
    )
    system.refresh_from_db()
    assert system.usable, system.check_error
    return system


def corpus_with(*texts: str, **fields) -> Corpus:
    """A corpus of one utterance per text (keys u0, u1, …), in en-us."""
    corpus = CorpusFactory(**fields)
    for i, text in enumerate(texts):
        UtteranceFactory(corpus=corpus, key=f"u{i}", text=text, language="en-us")
    return corpus


def finished(job: SynthesisJob) -> bool:
    job.refresh_from_db()
    return job.status in (SynthesisJob.Status.DONE, SynthesisJob.Status.CANCELLED)
