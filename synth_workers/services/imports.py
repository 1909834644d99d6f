"""Corpus and pre-rendered audio imports: validate everything first, then write in one transaction.

An import with any refusal changes nothing, unless ``skip_bad`` is given: then the rest is
imported and the report lists what was skipped. Every file is checked with the audio validator
before anything is stored, so a refusal names the file and the reason (unreadable, too long,
silent, wrong rate …). Preparation (resample, loudness, anchors) runs afterwards on `cpu` workers.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from evalsite import dispatch
from evalsite.errors import InputError
from evalsite.models import default_project_id
from synth_workers import audio
from synth_workers.manifest import ManifestRow, parse_manifest
from synth_workers.models import Corpus, Stimulus, System, Utterance
from synth_workers.services.naming import check_free, create_unique
from synth_workers.services.preparation import (
    current_policy,
    policy_as_dict,
    stimulus_key,
)
from synth_workers.services.storage import CheckedAudio, new_files_removed_on_error
from synth_workers.sources import AudioSource, Limits, open_audio_source

Progress = Callable[[int, int], None]
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


@dataclass
class ImportReport:
    corpus: Corpus
    system: System | None = None
    created: int = 0
    skipped: list[str] = field(default_factory=list)


def import_limits() -> Limits:
    return Limits(settings.IMPORT_MAX_FILE_BYTES, settings.IMPORT_MAX_TOTAL_BYTES)


def check_audio(source: AudioSource, name: str) -> CheckedAudio:
    """Read and validate one file; InputError naming the file when it is refused."""
    data = source.read(name)
    limits = current_policy().limits
    try:  # bounded: refused by its header, or decoded no further than the longest accepted
        audio.validate(audio.read_audio(io.BytesIO(data), limits), limits)
    except audio.AudioError as exc:
        raise InputError(f"{name}: {exc}") from None
    return CheckedAudio.of(data)


def _settle(problems: list[str], skip_bad: bool, what: str, report: ImportReport) -> None:
    if problems and not skip_bad:
        raise InputError(f"{what} refused; nothing was imported", problems)
    report.skipped.extend(problems)


def corpus_import_precheck(*, name: str) -> tuple[dict, dict]:
    """The refusals that need no file read (a name taken): checked again by the import itself,
    and by ``import_run_create`` before it stores uploads for a run bound to fail. Returns the
    messages for ``create_unique``."""
    corpus_taken = {"name": f"a corpus named '{name}' already exists"}
    system_taken = {"name": f"a system named '{name} recordings' already exists; rename it first"}
    check_free(Corpus, corpus_taken, name=name)
    check_free(System, system_taken, name=f"{name} recordings")
    return corpus_taken, system_taken


def rendered_import_precheck(*, system_name: str, pattern: str = "{key}") -> dict:
    """As ``corpus_import_precheck``, for a system's pre-rendered audio."""
    if "{key}" not in pattern:
        raise InputError(f"pattern '{pattern}' must contain {{key}}")
    taken = {"name": f"a system named '{system_name}' already exists"}
    check_free(System, taken, name=system_name)
    return taken


def corpus_import(
    *,
    name: str,
    manifest_name: str,
    manifest_data: bytes,
    audio_path: Path | None = None,
    default_language: str = "en",
    skip_bad: bool = False,
    owner=None,
    progress: Progress | None = None,
    project_id: int | None = None,
) -> ImportReport:
    """A corpus from a manifest (+ a folder or zip holding its recordings / prosody references).

    Natural recordings become the stimuli of a system of kind ``recording`` named after the corpus.
    Both belong to ``project_id`` (the default project when None).
    """
    corpus_taken, system_taken = corpus_import_precheck(name=name)
    rows, problems = parse_manifest(manifest_name, manifest_data, default_language)
    if any(r.recording or r.prosody_reference for r in rows) and audio_path is None:
        raise InputError(
            f"{manifest_name} names audio files; give the folder or zip that holds them"
        )
    checked: dict[str, CheckedAudio] = {}
    if audio_path is None:
        rows_ok = rows
    else:
        with open_audio_source(audio_path, import_limits()) as source:
            problems.extend(source.refused)
            rows_ok = _check_row_audio(rows, source, manifest_name, checked, problems, progress)
    # project_id given, so that building this unsaved row never makes the default project.
    unsaved = Corpus(name=name, default_language=default_language, project_id=project_id)
    report = ImportReport(corpus=unsaved)
    _settle(problems, skip_bad, f"corpus '{name}'", report)
    if not rows_ok:
        raise InputError(f"corpus '{name}': no row could be imported", report.skipped)
    with new_files_removed_on_error() as stored, transaction.atomic():
        project_id = project_id or default_project_id()
        corpus = report.corpus = create_unique(
            Corpus,
            taken=corpus_taken,
            name=name,
            default_language=default_language,
            project_id=project_id,
        )
        if any(row.recording for row in rows_ok):
            corpus.recordings = create_unique(
                System,
                taken=system_taken,
                slug_from=f"{name}-recordings",
                name=f"{name} recordings",
                kind=System.Kind.RECORDING,
                owner=owner,
                description=f"Natural recordings of corpus {name}",
                project_id=project_id,
            )
            corpus.save(update_fields=["recordings"])
        policy = current_policy()
        for row in rows_ok:
            utt = Utterance(
                corpus=corpus,
                key=row.key,
                text=row.text,
                language=row.language,
                speaker=row.speaker,
                style=row.style,
            )
            for column in ("recording", "prosody_reference"):
                if getattr(row, column):
                    setattr(utt, column, stored.store(checked[getattr(row, column)]))
            utt.save()
            if row.recording:
                _create_stimulus(
                    corpus.recordings, utt, checked[row.recording], utt.recording.name, policy
                )
                report.created += 1
        report.system = corpus.recordings
    return report


def _check_row_audio(
    rows: list[ManifestRow],
    source: AudioSource,
    manifest_name: str,
    checked: dict[str, CheckedAudio],
    problems: list[str],
    progress: Progress | None,
) -> list[ManifestRow]:
    """Rows whose audio files exist and pass validation; one problem per bad row otherwise."""
    ok = []
    for done, row in enumerate(rows, start=1):
        row_problems = []
        for column in ("recording", "prosody_reference"):
            path = getattr(row, column)
            if not path or path in checked:
                continue
            if path not in source:
                row_problems.append(
                    f"{manifest_name}, line {row.line}: {column} file '{path}' "
                    f"not found in {source.label}"
                )
                continue
            try:
                checked[path] = check_audio(source, path)
            except InputError as exc:
                row_problems.append(f"{manifest_name}, line {row.line}: {exc}")
        problems.extend(row_problems)
        if not row_problems:
            ok.append(row)
        if progress:
            progress(done, len(rows))
    return ok


def rendered_import(
    *,
    corpus: Corpus,
    system_name: str,
    audio_path: Path,
    pattern: str = "{key}",
    description: str = "",
    skip_bad: bool = False,
    owner=None,
    progress: Progress | None = None,
) -> ImportReport:
    """A system's pre-rendered audio: one file per utterance, found by ``pattern``; the system
    belongs to the corpus' project.

    ``pattern`` is the file's path inside the folder/zip with ``{key}`` standing for the
    utterance key, with or without its extension ("{key}" matches key.wav, key.flac or key.ogg;
    "{key}/encodec_6.wav" matches one file in a folder per utterance).
    """
    taken = rendered_import_precheck(system_name=system_name, pattern=pattern)
    utterances = list(corpus.utterances.order_by("key"))
    report = ImportReport(corpus=corpus)
    problems: list[str] = []
    checked: dict[int, CheckedAudio] = {}
    with open_audio_source(audio_path, import_limits()) as source:
        problems.extend(source.refused)
        found = _match_files(source, utterances, pattern, problems)
        for done, (utt, file_name) in enumerate(found.items(), start=1):
            try:
                checked[utt.pk] = check_audio(source, file_name)
            except InputError as exc:
                problems.append(str(exc))
            if progress:
                progress(done, len(found))
    _settle(problems, skip_bad, f"audio of system '{system_name}'", report)
    if not checked:
        raise InputError(f"system '{system_name}': no file could be imported", report.skipped)
    with new_files_removed_on_error() as stored, transaction.atomic():
        report.system = create_unique(
            System,
            taken=taken,
            slug_from=system_name,
            name=system_name,
            kind=System.Kind.RENDERED,
            owner=owner,
            description=description,
            project_id=corpus.project_id,
        )
        policy = current_policy()
        for utt in utterances:
            if utt.pk in checked:
                name = stored.store(checked[utt.pk])
                _create_stimulus(report.system, utt, checked[utt.pk], name, policy)
                report.created += 1
    return report


def _match_files(
    source: AudioSource, utterances: list[Utterance], pattern: str, problems: list[str]
) -> dict[Utterance, str]:
    """Each utterance's file; unmatched utterances and files are problems, by name."""
    found: dict[Utterance, str] = {}
    for utt in utterances:
        candidate = pattern.replace("{key}", utt.key)
        options = (
            [candidate]
            if candidate.lower().endswith(AUDIO_SUFFIXES)
            else [candidate + suffix for suffix in AUDIO_SUFFIXES]
        )
        matches = [name for name in options if name in source]
        if len(matches) == 1:
            found[utt] = matches[0]
        elif matches:
            problems.append(f"utterance '{utt.key}': several files match ({', '.join(matches)})")
        else:
            problems.append(f"utterance '{utt.key}': no file '{options[0]}' in {source.label}")
    if "/" not in pattern:  # a flat folder: a stray audio file is probably a typo in a key
        used = set(found.values())
        for name in source.names():
            if name.lower().endswith(AUDIO_SUFFIXES) and name not in used:
                problems.append(f"{name}: no utterance with this key in corpus")
    return found


def _create_stimulus(
    system: System, utt: Utterance, checked: CheckedAudio, source_name: str, policy
) -> Stimulus:
    stim = Stimulus.objects.create(
        system=system,
        utterance=utt,
        condition={},
        condition_key=stimulus_key({}),
        policy=policy_as_dict(policy),
        policy_key=policy.key(),
        source=source_name,
        source_sha256=checked.sha256,
        provenance={"origin": "import"},
    )
    dispatch.send_on_commit(dispatch.PREPARE_STIMULUS, stim.pk)
    return stim
