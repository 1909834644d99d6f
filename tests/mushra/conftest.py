"""An open MUSHRA test on real, prepared audio: a corpus with recordings and two systems.

Audio is imported and prepared through the real services (in this process: preparation is
synchronous here, so no worker is needed), so the stimuli, anchors and policy are the real ones.
"""

import struct

import pytest

from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.sessions import session_begin_trials, session_consent, session_start
from synth_workers.models import Corpus, Stimulus, System
from synth_workers.services import corpus_import, rendered_import
from synth_workers.services.preparation import stimulus_prepare
from tests.synth_workers.audio_files import write_tone

SYSTEM_NAMES = ("Zephyr-TTS", "Quokka-Voice")  # distinctive: the blinding tests search for them


def prepared_corpus(
    folder,
    n_items: int = 4,
    name: str = "Blind corpus",
    system_names=SYSTEM_NAMES,
    project_id: int | None = None,
    manifest_columns: dict[str, list[str]] | None = None,
) -> Corpus:
    """``manifest_columns``: more manifest columns (language, speaker, style), a value per item."""
    extra = manifest_columns or {}
    rows = [",".join(["key", "text", "recording", *extra])]
    for i in range(n_items):
        write_tone(folder / "rec" / f"item{i}.wav", seconds=1.5, freq=180 + 20 * i, seed=i)
        cells = [f"item{i}", f"Sentence number {i}.", f"item{i}.wav"]
        rows.append(",".join([*cells, *(values[i] for values in extra.values())]))
    corpus_import(
        name=name,
        manifest_name="manifest.csv",
        manifest_data="\n".join(rows).encode(),
        audio_path=folder / "rec",
        project_id=project_id,
    )
    corpus = Corpus.objects.get(name=name)
    for s, system_name in enumerate(system_names):
        for i in range(n_items):
            path = folder / system_name / f"item{i}.wav"
            write_tone(path, seconds=1.5, freq=300 + 50 * s + 10 * i, seed=10 + s)
        rendered_import(corpus=corpus, system_name=system_name, audio_path=folder / system_name)
    for pk in Stimulus.objects.filter(status="pending").values_list("pk", flat=True):
        stimulus_prepare(stimulus_id=pk)
    assert not Stimulus.objects.exclude(status="ready").exists()
    return corpus


def open_test(
    folder,
    n_items: int = 4,
    slug: str = "blind",
    system_names=SYSTEM_NAMES,
    project_id: int | None = None,
    **options,
):
    corpus = prepared_corpus(
        folder, n_items, f"Corpus {slug}", system_names=system_names, project_id=project_id
    )
    systems = [SystemCondition(System.objects.get(name=n)) for n in system_names]
    test = listening_test_create(
        name="Zephyr vs Quokka", slug=slug, corpus=corpus, systems=systems, **options
    )
    return listening_test_open(test=test)


@pytest.fixture
def mushra_test(db, tmp_path):
    return open_test(tmp_path)


def at_trials(test, **options):
    """A new session that has consented and read the instructions: ratings are open."""
    session = session_start(test=test, **options)
    session_consent(session=session)
    session_begin_trials(session=session)
    session.refresh_from_db()
    return session


def split_bundle(data: bytes) -> list[bytes]:
    """The parts of a trial's audio response: a count and each part's length (big-endian
    32-bit), then the parts; nothing may follow them."""
    (count,) = struct.unpack_from(">I", data)
    lengths = struct.unpack_from(f">{count}I", data, 4)
    parts, at = [], 4 + 4 * count
    for length in lengths:
        parts.append(data[at : at + length])
        at += length
    assert at == len(data) and all(len(p) == n for p, n in zip(parts, lengths, strict=True))
    return parts
