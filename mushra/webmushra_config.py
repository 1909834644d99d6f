"""A webMUSHRA configuration (YAML) read as the plan of a draft listening test; no database.

``read_config`` checks everything it can without writing (the YAML, the pages, every audio path)
and returns an ``ImportPlan`` that ``mushra.webmushra_import`` carries out, or one ``InputError``
listing every problem. What maps to what:

* ``mushra`` pages → a ``mushra`` test. Each page that is not a training page is one item
  (utterance, keyed by the page ``id``): its ``reference`` is the item's recording, each
  ``stimuli`` key a system (named by the key), the key's file that system's audio for the item.
  ``createAnchor35`` / ``createAnchor70`` → the anchors low / mid; the platform makes its own
  BS.1534-3 anchors from the prepared recordings (a note says so).
* A ``mushra`` page with ``showConditionNames: true`` or ``randomize: false`` is webMUSHRA's
  training idiom: ``training=True`` (the platform builds its practice trial from the items) and
  the page is not an item; its audio is not imported. No such page: ``training=False``.
* ``likert_single_stimulus`` / ``likert_multi_stimulus`` pages with exactly 5 responses → an
  ``acr`` test, items and systems as above. A page's ``reference`` becomes the item's recording
  (rated as the condition "Recordings"); with no reference on any page the corpus has no
  recordings. Another number of responses is refused: the platform's ACR scale has 5 categories.
* ``paired_comparison`` pages → an ``abx`` test. Each page is one item, its ``reference`` the
  item's recording (required), its ``stimuli`` keys the systems, as for mushra pages; the test's
  conditions are the recordings (the system condition "Recordings") and one per stimuli key.
  webMUSHRA asks which of A/B is the reference (X is always the reference, one page per stimuli
  key); the platform asks whether X is A or B, X drawn at random from the pair, and compares
  every pair of conditions, the systems with each other too (notes say so). ``unforced`` (a
  third, "undecided" answer) is not carried over: the platform's ABX is forced choice (a note).
* ``bs1116`` and ``spatial`` pages are refused (not available yet).
* ``consent`` page ``content`` → the test's consent text (HTML reduced to text); a ``volume``
  page → ``volume_calibration=True`` (the platform plays its own calibration noise at the test's
  loudness, not the page's file); ``generic`` pages and the ``finish`` page's texts and
  questionnaire are not carried over (notes): the platform asks its own questionnaire (age band,
  headphones, native language, comment) when the config had one, and none otherwise.
* ``language`` → the test's language when the platform has it, else a note and English;
  ``testname`` → the test's name (and its corpus'), ``testId`` → its address (slugified).
* ``- random`` blocks and nested page lists are read in place: the platform orders trials itself
  (a Williams design over sessions), so the config's order is not kept (a note).
* The corpus' texts are the page ids: a webMUSHRA config does not hold the spoken sentences, and
  a page's ``name`` / ``content`` are a title and an instruction, usually the same on every page.
* Keys the platform has no use for are notes, never errors. Pages of two rated types (mushra,
  likert, paired_comparison) are refused: one test per type. Every item page must have every
  stimuli key.

Audio paths are relative to the audio folder given with the config and must stay inside it
(no absolute path, no ``..``, no symbolic link leading out); they must exist and be .wav, .flac
or .ogg files. The audio itself is validated by the import service, before anything is written.
"""

from pathlib import Path

import yaml
from django.conf import settings

from evalsite.errors import InputError
from mushra.webmushra_plan import (
    RECORDINGS_LABEL,
    ImportPlan,
    Item,
    checked_path,
    has_control,
    html_to_text,
    name_of,
    slug_of,
)

MAX_CONFIG_BYTES = 1_000_000
MAX_ENTRIES = 5_000  # pages and page lists visited: YAML aliases can repeat a list many times
MAX_DEPTH = 8  # of nested page lists
ACR_CATEGORIES = 5
ITEM_TYPES = {
    "mushra": "mushra",
    "likert_single_stimulus": "acr",
    "likert_multi_stimulus": "acr",
    "paired_comparison": "abx",
}
LIKERT_TYPES = ("likert_single_stimulus", "likert_multi_stimulus")
NEEDS_REFERENCE = ("mushra", "paired_comparison")  # the hidden reference; X
PAGES_OF = {"mushra": "mushra", "acr": "likert", "abx": "paired_comparison"}  # test type → pages
REFUSED_TYPES = ("bs1116", "spatial")
PLANNED = "not available on this platform yet (BS.1116 and spatial tests are not built)"
TOP_LEVEL_READ = {"testname", "testId", "language", "pages"}
TOP_LEVEL_PLAYER = {"bufferSize", "stopOnErrors", "showButtonPreviousPage", "remoteService"}
ITEM_KEYS_READ = {"type", "id", "name", "reference", "stimuli", "response", "createAnchor35"}
ITEM_KEYS_READ |= {"createAnchor70", "randomize", "showConditionNames", "unforced"}
ANCHOR_OPTIONS = (("createAnchor35", "low", 3.5), ("createAnchor70", "mid", 7))
PLAYER = "the platform's player has its own controls"
# Why an item page's key is not carried over (a key not listed is simply not carried over).
KEY_REASONS = {
    "content": "the test shows the platform's question and instructions for its type",
    "showWaveform": PLAYER,
    "enableLooping": PLAYER,
    "switchBack": PLAYER,
    "strict": "the platform checks BS.1534-3's limit of 12 signals when the test is opened",
    "mustRate": "the platform asks for a rating of every sample",
    "mustPlayback": "the test's require_play_all decides",
    "maxStimuli": "every stimulus of an item is rated",
}


def read_config(source: Path | str | bytes, audio_root: Path, *, name: str = "") -> ImportPlan:
    """The plan of ``source`` (a file, or the YAML text itself) with audio under ``audio_root``."""
    name = name or (source.name if isinstance(source, Path) else "configuration")
    doc = _load(source, name)
    if not audio_root.is_dir():
        raise InputError(f"{audio_root}: no such folder (the audio folder of {name})")
    reader = _Reader(name, audio_root.resolve())
    plan = reader.read(doc)
    if reader.problems:
        problems = [f"{name}, {p}" for p in reader.problems]
        raise InputError(f"{name} refused; nothing was imported", problems)
    return plan


def _load(source: Path | str | bytes, name: str) -> dict:
    if isinstance(source, Path):
        if not source.is_file():
            raise InputError(f"{name}: no such file")
        with source.open("rb") as f:  # bounded: the file may grow after a size check
            source = f.read(MAX_CONFIG_BYTES + 1)
    data = source.encode() if isinstance(source, str) else source
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(f"{name}: over the limit of {MAX_CONFIG_BYTES / 1e6:.0f} MB")
    try:
        doc = yaml.safe_load(data)
    except yaml.MarkedYAMLError as exc:
        where = f", line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise InputError(f"{name}{where}: not valid YAML ({exc.problem})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise InputError(f"{name}: not valid YAML (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise InputError(f"{name}: not a webMUSHRA configuration (a mapping with pages)")
    if not isinstance(doc.get("pages"), list) or not doc["pages"]:
        raise InputError(f"{name}: no 'pages' list")
    return doc


def _label(where: str, page: dict) -> str:
    page_id = page.get("id")
    return f"page '{page_id}'" if isinstance(page_id, str | int) and page_id != "" else where


class _Reader:
    """Reads one configuration; every problem goes to ``problems``, every note to ``notes``."""

    def __init__(self, name: str, root: Path) -> None:
        self.name, self.root = name, root
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.options: dict = {
            "training": False,
            "volume_calibration": False,
            "questionnaire": False,
        }
        self.ignored: dict[str, list[str]] = {}  # an item page's key not carried over → pages
        self.random_blocks = 0
        self.visited = 0

    def read(self, doc: dict) -> ImportPlan:
        pages = self._flatten(doc["pages"], "pages", 0)
        rated = [(_label(w, p), p) for w, p in pages if self._page(_label(w, p), p)]
        test_type = self._test_type(rated)
        training = [label for label, page in rated if _is_training(page)]
        item_pages = [(label, page) for label, page in rated if not _is_training(page)]
        items = [self._item(label, page) for label, page in item_pages]
        items = [item for item in items if item is not None]
        if not rated:
            self.problems.append("no mushra, likert or paired_comparison page: nothing to rate")
        elif not item_pages:
            self.problems.append("every mushra page is a training page: no item to rate")
        self._check_items(items, test_type)
        test_name, slug = self._names(doc)
        language = self._language(doc.get("language"))
        self._training(training)
        anchors = self._anchors([p for _, p in item_pages]) if test_type == "mushra" else ()
        if test_type == "abx":
            self._abx_notes(item_pages, items)
        self._closing_notes(doc, test_type, len(items))
        return ImportPlan(
            self.name, test_type, test_name, slug, language, self.options, anchors, items,
            self.notes,
        )  # fmt: skip

    def _flatten(self, entries: list, where: str, depth: int) -> list[tuple[str, dict]]:
        """(where, page) pairs of a page list; nested lists and ``random`` blocks in place."""
        pages = []
        for i, entry in enumerate(entries):
            self.visited += 1
            if self.visited > MAX_ENTRIES:
                raise InputError(f"{self.name}: more than {MAX_ENTRIES} pages")
            here = f"{where}[{i}]"
            if i == 0 and entry == "random":
                self.random_blocks += 1
            elif isinstance(entry, list) and depth < MAX_DEPTH:
                pages += self._flatten(entry, here, depth + 1)
            elif isinstance(entry, dict):
                pages.append((here, entry))
            else:
                shown = "a list nested too deeply" if isinstance(entry, list) else repr(entry)
                self.problems.append(f"{here}: not a page (a mapping with a type): {shown[:40]}")
        return pages

    # --- one page ---------------------------------------------------------------------------

    def _page(self, label: str, page: dict) -> bool:
        """Read a page that is not rated; whether it is rated (an item or a training page)."""
        kind = page.get("type")
        if kind in ITEM_TYPES:
            return True
        if kind in REFUSED_TYPES:
            self.problems.append(f"{label}: type '{kind}' is {PLANNED}")
        elif kind == "consent":
            self._consent(label, page)
        elif kind == "volume":
            self.options["volume_calibration"] = True
            self.notes.append(
                f"{label} (volume): volume calibration is on; the platform plays its own "
                "calibration noise at the test's loudness, not the page's file"
            )
        elif kind == "generic":
            self.notes.append(f"{label} (generic): not carried over")
        elif kind == "finish":
            self._finish(label, page)
        elif isinstance(kind, str):
            self.notes.append(f"{label}: unknown page type '{kind[:40]}', not carried over")
        else:
            self.problems.append(f"{label}: no page type")
        return False

    def _consent(self, label: str, page: dict) -> None:
        text = html_to_text(page.get("content"))
        if not text:
            self.notes.append(f"{label} (consent): no content; the platform's consent text is used")
        elif "consent_text" in self.options:
            self.notes.append(f"{label} (consent): a second consent page, not carried over")
        else:
            self.options["consent_text"] = text

    def _finish(self, label: str, page: dict) -> None:
        questions = page.get("questionnaire")
        self.options["questionnaire"] = bool(questions)
        if questions:
            asked = [str(q.get("name", "?")) for q in questions if isinstance(q, dict)]
            self.notes.append(
                f"{label} (finish): its questionnaire ({', '.join(asked)[:200]}) is not carried "
                "over; the platform asks its own: age band, headphones, native language, comment"
            )
        else:
            self.notes.append(f"{label} (finish): no questionnaire, so the platform asks none")
        self.notes.append(f"{label} (finish): its texts are not carried over")

    def _item(self, label: str, page: dict) -> Item | None:
        before = len(self.problems)
        key = self._key(label, page.get("id"))
        for extra in sorted(set(map(str, page)) - ITEM_KEYS_READ):
            self.ignored.setdefault(extra, []).append(label)
        if page["type"] in LIKERT_TYPES:
            self._responses(label, page.get("response"))
        reference = page.get("reference")
        if reference is None and page["type"] in NEEDS_REFERENCE:
            self.problems.append(f"{label}: no reference (a {page['type']} page needs one)")
        elif reference is not None:
            reference = self._path(f"{label}, reference", reference)
        stimuli = page.get("stimuli")
        if not isinstance(stimuli, dict) or not stimuli:
            self.problems.append(f"{label}: no stimuli (a mapping of system key: file)")
            stimuli = {}
        paths = {
            self._system(label, key): self._path(f"{label}, stimuli.{key}", path)
            for key, path in stimuli.items()
        }
        return None if len(self.problems) > before else Item(key, reference, paths)

    def _key(self, label: str, value) -> str:
        key = "" if value is None or isinstance(value, dict | list) else str(value).strip()
        if not key:
            self.problems.append(f"{label}: no id (the id names the item)")
        elif len(key) > 200 or "/" in key or "\\" in key or key in (".", "..") or has_control(key):
            self.problems.append(
                f"{label}: id {key[:40]!r} cannot name an item (at most 200 characters, no "
                "slashes or control characters)"
            )
        return key

    def _system(self, label: str, value) -> str:
        key = str(value).strip()
        if not key or len(key) > 150 or has_control(key):
            self.problems.append(
                f"{label}: stimuli key {key[:40]!r} cannot name a system (1 to 150 "
                "characters, no control characters)"
            )
        return key

    def _responses(self, label: str, responses) -> None:
        if not isinstance(responses, list) or any(isinstance(r, list) for r in responses):
            self.problems.append(
                f"{label}: response must be one list of {ACR_CATEGORIES} categories (the "
                f"platform's ACR scale has {ACR_CATEGORIES} categories, one scale per trial)"
            )
        elif len(responses) != ACR_CATEGORIES:
            self.problems.append(
                f"{label}: {len(responses)} response categories; the platform's ACR scale has "
                f"{ACR_CATEGORIES} categories"
            )
        elif not any(n.startswith("likert response labels") for n in self.notes):
            labels = [
                str(r.get("label", r.get("value")) if isinstance(r, dict) else r)[:40]
                for r in responses
            ]
            self.notes.append(
                f"likert response labels ({', '.join(labels)}) are not carried over: the "
                "platform's ACR scale is 1 Bad, 2 Poor, 3 Fair, 4 Good, 5 Excellent (ITU-T "
                "P.800), in the test's language"
            )

    def _path(self, where: str, value) -> str | None:
        try:
            return checked_path(self.root, value)[0]
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return None

    # --- the whole test ---------------------------------------------------------------------

    def _test_type(self, rated: list[tuple[str, dict]]) -> str:
        by_type: dict[str, list[str]] = {}
        for label, page in rated:
            by_type.setdefault(ITEM_TYPES[page["type"]], []).append(label)
        if len(by_type) > 1:
            pages = [
                f"{PAGES_OF[kind]} pages ({', '.join(labels[:5])})"
                for kind, labels in by_type.items()
            ]
            self.problems.append(
                f"{' and '.join(pages)}: one test per type, so one type of rated page per "
                "configuration; split it"
            )
        return next(iter(by_type), "mushra")

    def _check_items(self, items: list[Item], test_type: str) -> None:
        """Every item has every system and a distinct id; references on all items or none; in
        an ABX test no system takes the recordings' label."""
        keys = list(dict.fromkeys(k for item in items for k in item.stimuli))
        if test_type == "abx" and RECORDINGS_LABEL in keys:
            self.problems.append(
                f"stimuli key '{RECORDINGS_LABEL}' names the recordings' condition of the ABX "
                "test; rename the key"
            )
        seen: set[str] = set()
        for item in items:
            for key in keys:
                if key not in item.stimuli:
                    self.problems.append(
                        f"page '{item.key}': stimuli key '{key}' is missing (every item needs "
                        "the audio of every system)"
                    )
            if item.key in seen:
                self.problems.append(f"page '{item.key}': a second item page with this id")
            seen.add(item.key)
        without = [f"'{item.key}'" for item in items if item.recording is None]
        if without and len(without) < len(items):
            self.problems.append(
                f"page(s) {', '.join(without[:5])}: no reference, while other pages have one; "
                "give every page a reference or none"
            )

    def _names(self, doc: dict) -> tuple[str, str]:
        test_name, test_id = doc.get("testname"), doc.get("testId")
        if test_name is None and test_id is None:
            self.problems.append("neither testname nor testId: the test needs a name")
            return "", ""
        test_name = name_of(test_id if test_name is None else test_name, "testname", self.problems)
        return test_name, slug_of(
            test_name if test_id is None else test_id, "testId", self.problems
        )

    def _language(self, value) -> str:
        codes = [code for code, _ in settings.LANGUAGES]
        if value is None:
            return "en"
        if str(value).lower() in codes:
            return str(value).lower()
        self.notes.append(
            f"language {str(value)[:20]!r} is not one of the platform's ({', '.join(codes)}): "
            "the listener pages are in English"
        )
        return "en"

    def _training(self, labels: list[str]) -> None:
        if labels:
            self.options["training"] = True
            self.notes.append(
                f"{', '.join(labels)}: webMUSHRA's training idiom (showConditionNames or "
                "randomize: false), so training is on; the platform builds its practice trial "
                "from the items and this audio is not imported"
            )
        else:
            self.notes.append("no training page: the test has no practice trial")

    def _anchors(self, pages: list[dict]) -> tuple[str, ...]:
        anchors = []
        for option, anchor, cutoff in ANCHOR_OPTIONS:
            asked = sum(page.get(option) is True for page in pages)
            if not asked:
                continue
            anchors.append(anchor)
            partly = f" (the config asked on {asked} of {len(pages)} pages)"
            self.notes.append(
                f"{option}: the platform makes the {anchor} anchor ({cutoff} kHz low-pass, "
                "BS.1534-3) from each prepared recording, for every trial"
                + (partly if asked < len(pages) else "")
            )
        return tuple(anchors)

    def _abx_notes(self, pages: list[tuple[str, dict]], items: list[Item]) -> None:
        """What differs between webMUSHRA's paired comparison and the platform's ABX."""
        systems = len(items[0].stimuli) if items else 0
        conditions = systems + 1
        self.notes.append(
            f"paired_comparison pages: an ABX test of the recordings (the condition "
            f"'{RECORDINGS_LABEL}') and the {systems} system(s). webMUSHRA asks which of A and B "
            "is the reference (X is always the reference, one page per stimuli key); the "
            "platform asks whether X is A or B, X drawn at random from the pair"
        )
        self.notes.append(
            f"the platform's ABX compares every pair of the test's {conditions} conditions once "
            "per utterance a session rates, the systems with each other too, not only each "
            f"with the reference: {conditions * (conditions - 1) // 2} trials per utterance "
            f"where webMUSHRA had {systems} page(s) per item"
        )
        self.notes.append(
            "the platform unlocks a trial's answer once A, B and X have all been played "
            "(require_play_all), which webMUSHRA does not ask: turn it off in the draft to match"
        )
        unforced = [(label, page["unforced"]) for label, page in pages if page.get("unforced")]
        if unforced:
            labels = ", ".join(label for label, _ in unforced[:5])
            labels += " …" if len(unforced) > 5 else ""
            answer = " ".join(str(unforced[0][1]).split())[:40]
            self.notes.append(
                f"unforced ({labels}): not carried over; the platform's ABX is forced choice "
                f"(X is A or X is B), with no third answer such as {answer!r}"
            )

    def _closing_notes(self, doc: dict, test_type: str, n_items: int) -> None:
        for key, labels in sorted(self.ignored.items()):
            pages = ", ".join(labels[:5]) + (" …" if len(labels) > 5 else "")
            reason = f"; {KEY_REASONS[key]}" if key in KEY_REASONS else ""
            self.notes.append(f"{key} ({pages}): not carried over{reason}")
        top = set(map(str, doc))
        if player := sorted(top & TOP_LEVEL_PLAYER):
            self.notes.append(
                f"{', '.join(player)}: not carried over (the platform has its own player and "
                "stores every rating as it is given)"
            )
        if unknown := sorted(top - TOP_LEVEL_READ - TOP_LEVEL_PLAYER):
            self.notes.append(f"unknown top-level key(s) {', '.join(unknown)[:200]}: ignored")
        if n_items > 1:
            blocks = f" (and {self.random_blocks} random block(s))" if self.random_blocks else ""
            self.notes.append(
                f"page order{blocks}: not kept; the platform orders trials itself (a Williams "
                "design over sessions) and shuffles the conditions of every trial"
            )
        if test_type == "mushra":
            self.notes.append(
                "the platform applies BS.1534-3 rules webMUSHRA leaves out: each sample is "
                "played before it is rated and each trial needs one rating of 100 "
                "(require_play_all, require_one_100; change them in the draft)"
            )
        self.notes.append(
            "the corpus' texts are the page ids (a webMUSHRA config does not hold the spoken "
            "sentences): correct them before synthesizing from this corpus or measuring WER"
        )


def _is_training(page: dict) -> bool:
    return page.get("type") == "mushra" and (
        page.get("showConditionNames") is True or page.get("randomize") is False
    )
