"""Demo data for `make demo`: two TTS systems and a small English corpus rendered by them.

Idempotent: what exists is kept. The systems are checked here, in the launcher, so their jobs can
be queued before the worker starts; the worker renders them once it is up.
"""

from django.db import transaction

from synth_workers.backends import joe_voice_files
from synth_workers.harvard import HARVARD_SENTENCES
from synth_workers.models import Corpus, SynthesisJob, System, Utterance
from synth_workers.services.registration import system_check, system_register
from synth_workers.services.synthesis import job_create

CORPUS = "Demo: Harvard sentences"
SENTENCES = HARVARD_SENTENCES[:5]
SYSTEMS = [
    ("Piper (joe, medium)", "piper", joe_voice_files, {}),
    ("espeak-ng", "espeak-ng", dict, {"style": ["neutral", "newscaster"]}),
]


def seed() -> str:
    corpus = _corpus()
    queued = []
    for name, backend, files, grid in SYSTEMS:
        system = System.objects.filter(name=name).first()
        if system is None:
            system = system_register(
                name=name, backend=backend, files=files(), description="Registered by the demo"
            )
        if not system.usable:
            system_check(system_id=system.pk)
            system.refresh_from_db()
        if system.usable and not SynthesisJob.objects.filter(system=system, corpus=corpus).exists():
            job = job_create(system=system, corpus=corpus, grid=grid)
            queued.append(f"/synthesis/jobs/{job.pk}/")
    jobs = f"; synthesis queued: {', '.join(queued)}" if queued else ""
    return f"Demo corpus '{CORPUS}' with {len(SENTENCES)} sentences{jobs}"


@transaction.atomic
def _corpus() -> Corpus:
    corpus, created = Corpus.objects.get_or_create(
        name=CORPUS,
        defaults={
            "default_language": "en-us",
            "description": "Five Harvard sentences for the demo",
        },
    )
    if created:
        Utterance.objects.bulk_create(
            Utterance(corpus=corpus, key=f"h{i:02d}", text=text, language="en-us")
            for i, text in enumerate(SENTENCES, start=1)
        )
    return corpus
