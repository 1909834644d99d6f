"""Demo data for `make demo`: a small English corpus and TTS systems that render it.

The corpus (five Harvard sentences) goes through the real corpus import. No natural recordings
ship with the platform, so its "recordings" are a stand-in: Piper renderings made here. Each
sentence's prosody reference is espeak-ng's "excited" rendering. Four systems render the corpus
on the worker: espeak-ng in two styles, the Piper voice, the Piper voice with the prosody of
each reference imposed by WORLD (the built-in prosody-transfer baseline), and Kokoro-82M's
Japanese voice jm_kumo speaking the English sentences (cross-lingual synthesis by a neural
model). Only the transfer system renders with the references.

Idempotent: what exists is kept. The systems are checked here, in the launcher, so their jobs can
be queued before the worker starts; the worker renders them once it is up.
"""

import csv
import io
import tempfile
from pathlib import Path

from synth_workers import audio
from synth_workers.backends import SynthRequest, get_backend, joe_voice_files
from synth_workers.harvard import HARVARD_SENTENCES
from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.services import corpus_import
from synth_workers.services.registration import system_check, system_register
from synth_workers.services.synthesis import job_create

CORPUS = "Demo: Harvard sentences"
SENTENCES = HARVARD_SENTENCES[:5]
PIPER = "Piper (joe, medium)"
TRANSFER = "Piper (joe) + WORLD prosody transfer"
ESPEAK = "espeak-ng"
KOKORO = "Kokoro (jm_kumo, a Japanese voice) speaking English"
KOKORO_CONDITION = {"language": "en-us", "speaker": "jm_kumo"}  # a grid point, as stored
REFERENCE_STYLE = "excited"
# name, backend, files, config, grid, renders with the prosody references
SYSTEMS = [
    (PIPER, "piper", joe_voice_files, {}, {}, False),
    (ESPEAK, "espeak-ng", dict, {}, {"style": ["neutral", "newscaster"]}, False),
    (TRANSFER, "world-prosody-transfer", dict, {"base_system": PIPER}, {}, True),
    (KOKORO, "kokoro", dict, {}, {k: [v] for k, v in KOKORO_CONDITION.items()}, False),
]


def seed() -> str:
    corpus = Corpus.objects.filter(name=CORPUS).first() or _import_corpus()
    queued = []
    for name, backend, files, config, grid, with_reference in SYSTEMS:
        system = System.objects.filter(name=name).first()
        if system is None:
            system = system_register(
                name=name,
                backend=backend,
                config=config,
                files=files(),
                description="Registered by the demo",
            )
        if not system.usable:
            system_check(system_id=system.pk)
            system.refresh_from_db()
        if system.usable and not SynthesisJob.objects.filter(system=system, corpus=corpus).exists():
            job = job_create(
                system=system, corpus=corpus, grid=grid, use_prosody_reference=with_reference
            )
            queued.append(f"/synthesis/jobs/{job.pk}/")
    jobs = f"; synthesis queued: {', '.join(queued)}" if queued else ""
    return f"Demo corpus '{CORPUS}' with {len(SENTENCES)} sentences{jobs}"


def _import_corpus() -> Corpus:
    """Render the stand-in recordings and the prosody references, then import them."""
    piper = get_backend("piper")()
    piper.load(joe_voice_files(), {}, "cpu")
    espeak = get_backend("espeak-ng")()
    espeak.load({}, {}, "cpu")
    recordings = piper.synthesize([SynthRequest(text=t) for t in SENTENCES])
    references = espeak.synthesize([SynthRequest(text=t, style=REFERENCE_STYLE) for t in SENTENCES])
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["key", "text", "language", "recording", "prosody_reference"])
    with tempfile.TemporaryDirectory() as folder:
        for i, (text, rec, ref) in enumerate(zip(SENTENCES, recordings, references, strict=True)):
            key = f"h{i + 1:02d}"
            audio.write_audio(rec, Path(folder) / f"{key}.flac")
            audio.write_audio(ref, Path(folder) / f"{key}-prosody.flac")
            writer.writerow([key, text, "en-us", f"{key}.flac", f"{key}-prosody.flac"])
        corpus_import(
            name=CORPUS,
            manifest_name="demo.csv",
            manifest_data=manifest.getvalue().encode(),
            audio_path=Path(folder),
            default_language="en-us",
        )
    corpus = Corpus.objects.get(name=CORPUS)
    corpus.description = (
        "Five Harvard sentences. Recordings: a stand-in rendered by Piper (no natural recordings "
        f"ship with the platform). Prosody references: espeak-ng '{REFERENCE_STYLE}'."
    )
    corpus.save(update_fields=["description"])
    return corpus
