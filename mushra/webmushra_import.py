"""A webMUSHRA configuration's plan (``mushra.webmushra_config``) carried out: corpus, systems,
stimuli and a draft listening test, all or nothing.

Everything is checked before anything is written: the names and the address are free, every
audio file is inside the audio folder, within the import bounds and passes the audio validator
(problems name the page, the key and the file). Then one transaction runs the platform's own
imports — ``corpus_import`` (one utterance per item page, its recording when the pages have
references), ``rendered_import`` once per stimuli key, ``listening_test_create`` (an ABX test
gets the corpus' recordings as its first system, labelled "Recordings") — so a refusal
at any step (a condition label clash, a race for a name) rolls all of them back, and the audio
files this import added to storage are removed again. Preparation of the stimuli is queued by
those services when the transaction commits, as for any import.

The services read a folder whose file names are utterance keys, so the checked bytes are staged
in a temporary folder under those names; what is staged is exactly what was checked.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from django.db import transaction

from evalsite.errors import InputError
from evalsite.models import Project, default_project_id
from mushra.models import ListeningTest
from mushra.services import SystemCondition, listening_test_create
from mushra.webmushra_plan import AUDIO_SUFFIXES, RECORDINGS_LABEL, ImportPlan, checked_path
from synth_workers.services import corpus_import, rendered_import
from synth_workers.services.imports import (
    check_audio,
    corpus_import_precheck,
    import_limits,
    rendered_import_precheck,
)
from synth_workers.services.naming import check_free
from synth_workers.services.storage import CheckedAudio, new_files_removed_on_error
from synth_workers.sources import AudioSource, Limits

MANIFEST_NAME = "webmushra-items.jsonl"


@dataclass(frozen=True)
class _Names:
    corpus: str
    systems: dict[str, str]  # stimuli key → system name


class _ConfigFiles(AudioSource):
    """The files a config names (its relative paths → resolved files), read within the bounds."""

    def __init__(self, root: Path, limits: Limits) -> None:
        super().__init__(str(root))
        self.limits = limits
        self.files: dict[str, Path] = {}

    def add(self, relative: str, resolved: Path) -> None:
        self.files[relative] = resolved
        self._sizes[relative] = resolved.stat().st_size

    def read(self, name: str) -> bytes:
        size = self._sizes[name]
        if size > self.limits.max_file_bytes:
            raise InputError(
                f"{name}: {size / 1e6:.1f} MB is over the limit of "
                f"{self.limits.max_file_bytes / 1e6:.1f} MB per file"
            )
        try:
            return self.files[name].read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def webmushra_import(
    *,
    plan: ImportPlan,
    audio_root: Path,
    project_id: int | None = None,
    user=None,
    system_prefix: str = "",
) -> ListeningTest:
    """The draft test of ``plan`` in project ``project_id`` (the default project when None).
    Systems are named ``system_prefix`` + the stimuli key; their conditions keep the key."""
    if project_id is not None and not Project.objects.filter(pk=project_id).exists():
        raise InputError(f"no project with id {project_id}")
    names = _Names(plan.name, {key: f"{system_prefix}{key}" for key in plan.systems})
    problems = _name_problems(plan, names)
    checked = _checked_audio(plan, audio_root, problems)
    if problems:
        raise InputError(f"{plan.config_name} refused; nothing was imported", problems)
    with TemporaryDirectory(prefix="webmushra-") as staging:
        folders = _stage(plan, checked, Path(staging))
        # Stored first by this import's own record of new files: the services then find every
        # file present and store none, and a refusal at any later step removes exactly these.
        with new_files_removed_on_error() as stored, transaction.atomic():
            for audio in checked.values():
                stored.store(audio)
            return _create(plan, names, folders, project_id or default_project_id(), user)


def _name_problems(plan: ImportPlan, names: _Names) -> list[str]:
    """Every name or address already taken (the services check again when they write)."""
    checks = [lambda: corpus_import_precheck(name=names.corpus)]
    checks += [lambda n=n: rendered_import_precheck(system_name=n) for n in names.systems.values()]
    checks.append(
        lambda: check_free(
            ListeningTest, {"slug": f"a test with the address '{plan.slug}' exists"}, slug=plan.slug
        )
    )
    problems = [
        f"system name '{name}' is longer than 200 characters"
        for name in names.systems.values()
        if len(name) > 200
    ]
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems.append(exc.message)
    return problems


def _checked_audio(plan: ImportPlan, root: Path, problems: list[str]) -> dict[str, CheckedAudio]:
    """Each file the plan uses, read and validated once; a problem per bad file, naming where
    the config uses it."""
    limits = import_limits()
    files = _ConfigFiles(root, limits)
    used: dict[str, str] = {}  # relative path → where the config first uses it
    for item in plan.items:
        named = [("reference", item.recording), *item.stimuli.items()]
        for role, relative in named:
            if relative is None or relative in used:
                continue
            used[relative] = f"{plan.config_name}, page '{item.key}', {role}"
            try:  # checked again: the folder may have changed since the plan was read
                files.add(relative, checked_path(root.resolve(), relative)[1])
            except ValueError as exc:
                problems.append(f"{used[relative]}: {exc}")
    total = sum(files.size(name) for name in files.names())
    if total > limits.max_total_bytes:
        problems.append(
            f"{total / 1e6:.1f} MB of audio is over the limit of "
            f"{limits.max_total_bytes / 1e6:.1f} MB per import"
        )
        return {}
    checked = {}
    for relative in files.names():
        try:
            checked[relative] = check_audio(files, relative)
        except InputError as exc:
            problems.append(f"{used[relative]}: {exc.message}")
    return checked


def _stage(plan: ImportPlan, checked: dict[str, CheckedAudio], staging: Path) -> dict:
    """The checked bytes under the names the services look for: ``<item key><suffix>`` in one
    folder for the recordings and one per system. Returns the folders (None: no recordings)."""
    folders: dict = {"recordings": None, "systems": {}}
    index = {key: i for i, key in enumerate(plan.systems)}
    for item in plan.items:
        named = [(None, item.recording), *item.stimuli.items()]
        for key, relative in named:
            if relative is None:
                continue
            folder = staging / ("recordings" if key is None else f"system-{index[key]}")
            folder.mkdir(exist_ok=True)
            (folder / _staged_name(item.key, relative)).write_bytes(checked[relative].data)
            if key is None:
                folders["recordings"] = folder
            else:
                folders["systems"][key] = folder
    return folders


def _staged_name(key: str, relative: str) -> str:
    """``rendered_import`` finds ``key`` + .wav/.flac/.ogg, or ``key`` itself when it already
    ends so."""
    if key.lower().endswith(AUDIO_SUFFIXES):
        return key
    return key + Path(relative).suffix.lower()


def _manifest(plan: ImportPlan) -> bytes:
    """One row per item: the page id as key and as text (a config holds no sentences)."""
    rows = []
    for item in plan.items:
        row = {"key": item.key, "text": item.key}
        if item.recording is not None:
            row["recording"] = _staged_name(item.key, item.recording)
        rows.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(rows).encode()


def _create(plan: ImportPlan, names: _Names, folders: dict, project_id: int, user) -> ListeningTest:
    corpus = corpus_import(
        name=names.corpus,
        manifest_name=MANIFEST_NAME,
        manifest_data=_manifest(plan),
        audio_path=folders["recordings"],
        default_language=plan.language,
        owner=user,
        project_id=project_id,
    ).corpus
    systems = []
    if plan.recordings_compared:  # ABX: the recordings are compared as one more system
        systems.append(SystemCondition(corpus.recordings, label=RECORDINGS_LABEL))
    for key in plan.systems:
        report = rendered_import(
            corpus=corpus,
            system_name=names.systems[key],
            audio_path=folders["systems"][key],
            description=f"Imported from {plan.config_name} (webMUSHRA stimuli key '{key}')",
            owner=user,
        )
        systems.append(SystemCondition(report.system, label=key))
    return listening_test_create(
        name=plan.name,
        slug=plan.slug,
        corpus=corpus,
        systems=systems,
        anchors=plan.anchors,
        test_type=plan.test_type,
        user=user,
        language=plan.language,
        **plan.options,
    )
