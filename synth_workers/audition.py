"""Reads of the audition grid: a corpus' utterances (rows) × every (system, condition) that has
stimuli on it (columns), one page of rows at a time.

The number of queries does not grow with the corpus or the page: the columns, the filter
choices, the row count, one page of rows and that page's stimuli are one query each. A
10,000-utterance corpus is read 50 rows at a time; nothing here loads a stimulus' provenance
(fetched on demand, one stimulus at a time).
"""

import json
import re
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q

from synth_workers.audio.anchors import LOW_ANCHOR, MID_ANCHOR
from synth_workers.models import Corpus, Stimulus, Utterance

PER_PAGE = 50
SYSTEM_ID = re.compile(r"[0-9]{1,18}")
# Conditioning a filter can narrow by: the utterance's own field, or the condition JSON's key
# of the same name when a system renders the utterance under another style/language/speaker.
FACETS = ("style", "language", "speaker")

# The BS.1534-3 anchors the preparation makes from each recording (synth_workers.audio.pipeline).
ANCHOR_NAMES = {LOW_ANCHOR: "low anchor (3.5 kHz)", MID_ANCHOR: "mid anchor (7 kHz)"}


@dataclass(frozen=True)
class AuditionFilters:
    system: int | None = None
    style: str = ""
    language: str = ""
    speaker: str = ""

    @classmethod
    def of(cls, params) -> "AuditionFilters":
        """From GET parameters. Malformed ones are no filter rather than an error: a system id
        that is not a bigint, and NULs, which PostgreSQL text cannot hold."""
        raw = params.get("system", "")
        return cls(
            system=int(raw) if SYSTEM_ID.fullmatch(raw) else None,
            **{f: params.get(f, "").replace("\x00", "").strip()[:200] for f in FACETS},
        )

    def facets(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FACETS if getattr(self, f)}


@dataclass(frozen=True)
class Column:
    system_id: int
    system_name: str
    condition: dict

    @property
    def key(self) -> tuple[int, str]:
        return column_key(self.system_id, self.condition)

    @property
    def params(self) -> str:
        if set(self.condition) == {"anchor"} and self.condition["anchor"] in ANCHOR_NAMES:
            return ANCHOR_NAMES[self.condition["anchor"]]  # a name a person reads at a glance
        return ", ".join(f"{k}={_text(v)}" for k, v in sorted(self.condition.items()))

    @property
    def label(self) -> str:
        return f"{self.system_name} · {self.params}" if self.condition else self.system_name

    def admits(self, facets: dict[str, str], utterance_values: dict[str, set[str]]) -> bool:
        """Whether some cell of this column can match: its condition sets the facet to the
        wanted value, or leaves it to utterances of which some have that value."""
        for name, wanted in facets.items():
            if name in self.condition:
                if _text(self.condition[name]) != wanted:
                    return False
            elif wanted not in utterance_values[name]:
                return False
        return True


@dataclass
class Row:
    utterance: Utterance
    cells: list[Stimulus | None] = field(default_factory=list)


@dataclass
class AuditionGrid:
    corpus: Corpus
    columns: list[Column]
    rows: list[Row]
    page: Page
    systems: list[tuple[int, str]]  # filter choices
    choices: list[tuple[str, list[str], str]]  # (facet, values, the chosen one)


def audition_grid(
    corpus: Corpus, filters: AuditionFilters, page_number=1, per_page: int = PER_PAGE
) -> AuditionGrid:
    all_columns = _columns(corpus)
    utterance_values = _utterance_values(corpus)
    choices = [
        (
            name,
            sorted(
                (
                    utterance_values[name]
                    | {_text(c.condition[name]) for c in all_columns if name in c.condition}
                )
                - {""}
            ),
            getattr(filters, name),
        )
        for name in FACETS
    ]
    systems = sorted({(c.system_id, c.system_name) for c in all_columns}, key=lambda s: s[1])
    facets = filters.facets()
    columns = [
        c
        for c in all_columns
        if (filters.system is None or c.system_id == filters.system)
        and c.admits(facets, utterance_values)
    ]
    # corpus_id too: the related manager sets each row's corpus, which reads it.
    utterances = _rows_query(corpus, filters, facets).only("corpus_id", "key", "text", *FACETS)
    page = Paginator(utterances, per_page).get_page(page_number)
    rows = _rows(list(page.object_list), columns, facets)
    return AuditionGrid(corpus, columns, rows, page, systems, choices)


def _columns(corpus: Corpus) -> list[Column]:
    """Every (system, condition) with a stimulus on the corpus: the recordings first (the
    reference, then its anchors), then the other systems by name."""
    pairs = (
        Stimulus.objects.filter(utterance__corpus=corpus)
        .order_by()
        .values_list("system_id", "system__name", "condition")
        .distinct()
    )
    # Keyed by the condition itself, not condition_key: a synthesized stimulus' condition_key
    # is its item's key, which names the utterance too (one column per sentence otherwise).
    columns = {
        column_key(s, cond or {}): Column(s, name, cond or {}) for s, name, cond in pairs
    }.values()

    def order(c: Column):
        return (
            c.system_id != corpus.recordings_id,
            c.system_name,
            "anchor" in c.condition,
            c.label,
        )

    return sorted(columns, key=order)


def _utterance_values(corpus: Corpus) -> dict[str, set[str]]:
    combos = corpus.utterances.order_by().values_list(*FACETS).distinct()
    values = {name: set() for name in FACETS}
    for combo in combos:
        for name, value in zip(FACETS, combo, strict=True):
            values[name].add(value)
    return values


def _rows_query(corpus: Corpus, filters: AuditionFilters, facets: dict[str, str]):
    """Without filters every utterance; with them, those with at least one stimulus in the
    chosen system whose conditioning (the condition's, else the utterance's) matches every
    facet, so no page is full of empty rows."""
    utterances = corpus.utterances.order_by("key")
    if filters.system is None and not facets:
        return utterances
    stimuli = Stimulus.objects.filter(utterance=OuterRef("pk"))
    if filters.system is not None:
        stimuli = stimuli.filter(system_id=filters.system)
    for name, wanted in facets.items():
        in_condition = Q(**{f"condition__{name}": wanted})
        from_utterance = ~Q(condition__has_key=name) & Q(**{f"utterance__{name}": wanted})
        stimuli = stimuli.filter(in_condition | from_utterance)
    return utterances.filter(Exists(stimuli))


def _rows(utterances: list[Utterance], columns: list[Column], facets: dict[str, str]) -> list[Row]:
    index = {c.key: i for i, c in enumerate(columns)}
    rows = {u.pk: Row(u, [None] * len(columns)) for u in utterances}
    stimuli = (
        Stimulus.objects.filter(utterance_id__in=rows)
        .only("id", "utterance_id", "system_id", "condition", "status", "error")
        .order_by("pk")  # a later stimulus (e.g. under a newer policy) takes the cell
    )
    for stim in stimuli:
        at = index.get(column_key(stim.system_id, stim.condition))
        row = rows[stim.utterance_id]
        if at is not None and _matches(stim, row.utterance, facets):
            row.cells[at] = stim
    return list(rows.values())


def column_key(system_id: int, condition: dict) -> tuple[int, str]:
    """A column: one system under one condition (the JSON with its keys sorted)."""
    return (system_id, json.dumps(condition or {}, sort_keys=True))


def _matches(stim: Stimulus, utterance: Utterance, facets: dict[str, str]) -> bool:
    for name, wanted in facets.items():
        value = stim.condition[name] if name in stim.condition else getattr(utterance, name)
        if _text(value) != wanted:
            return False
    return True


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
