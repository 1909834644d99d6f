"""Reads of a listening test's ratings as tidy tables, the input of :mod:`mushra.analysis`
(``mushra.results`` analyses and reports them).

Listeners appear as "S<session number>" (never a participant id, which may be a
Prolific id), conditions by the scientist's labels, items by utterance key. Strata columns let a
report be broken down:

* the end-questionnaire answers (age band, headphones, native language; free-text comments stay
  out), "(not answered)" when blank;
* the rated utterance's language, style and speaker (``utterance_*``), "(none)" when blank;
* one ``condition_<key>`` column per key of the systems' synthesis conditions (``style`` of
  ``{"style": "dj"}``), blank for a condition without that key — the hidden reference, the
  anchors, an unconditioned system — which the analysis then counts in every stratum of the
  column (:mod:`mushra.analysis.strata`). Only the systems' keys: an anchor's ``{"anchor": …}``
  says how it was made, not a stratum.

The ratings carry every one of these columns, so an export's header does not depend on the
values (a script reading two tests' CSVs sees the same columns); the results form offers only
those that split the test in two or more strata, as a breakdown into one repeats the whole.
Blank questionnaire and utterance values get a text of their own because a blank means "shared"
in a condition column.
"""

from __future__ import annotations

import json

import pandas as pd

from mushra import test_types
from mushra.analysis.timing import TIMING_COLUMNS
from mushra.models import AttentionCheck, Condition, ListeningTest, Rating
from mushra.timing_reads import audio_by_utterance, trial_seconds

QUESTIONNAIRE = ("age_band", "headphones", "native_language")


UTTERANCE = ("utterance_language", "utterance_style", "utterance_speaker")


NOT_ANSWERED = "(not answered)"


NO_VALUE = "(none)"


def ratings_frame(test: ListeningTest, *, timing: bool = False) -> pd.DataFrame:
    """Every stored rating of the test's real (non-preview) sessions, in tidy form.

    Ratings come as plain tuples and questionnaire answers once per session, joined in pandas:
    a crowdsourced test holds 10^5-10^6 ratings, too many for a Python object per row.
    With ``timing`` each rating also carries its plays and listening time and its trial's
    seconds and audio (:data:`TIMING_COLUMNS`, last): measurements, never strata.
    """
    utterance = [f"trial__utterance__{c.removeprefix('utterance_')}" for c in UTTERANCE]
    ratings = pd.DataFrame.from_records(
        Rating.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position", "condition_id")
        .values_list(
            "session__number", "trial__utterance__key", "condition__label", "score", *utterance,
            "plays", "listening_ms", "trial_id", "trial__utterance_id",
        )
        .iterator(chunk_size=20_000),
        columns=["number", "item", "condition", "score", *UTTERANCE, *_TIMING_READ],
    )  # fmt: skip
    if timing:
        _add_timing(test, ratings)
    for column in UTTERANCE:
        ratings[column] = ratings[column].replace("", NO_VALUE)
    conditions = condition_strata(test)
    for column, by_label in conditions.items():
        ratings[column] = ratings["condition"].map(by_label).fillna("")
    sessions = test.sessions.filter(preview=False).values_list("number", "questionnaire")
    answers = pd.DataFrame.from_records(
        [{"number": number, **_answers(q or {})} for number, q in sessions],
        columns=["number", *QUESTIONNAIRE],
    )
    df = ratings.merge(answers, on="number", how="left")
    df.insert(0, "listener", "S" + df.pop("number").astype(str))
    timed = TIMING_COLUMNS if timing else ()
    return df[
        ["listener", "item", "condition", "score", *UTTERANCE, *conditions, *QUESTIONNAIRE, *timed]
    ]


_TIMING_READ = ("plays", "listening_ms", "trial_id", "utterance_id")


def _add_timing(test: ListeningTest, ratings: pd.DataFrame) -> None:
    """The trial's seconds (server clock, mushra.analysis.timing) and audio on each rating."""
    seconds = trial_seconds(test)
    audio = audio_by_utterance(test)
    ratings["trial_seconds"] = ratings["trial_id"].map(seconds).astype(float).round(3)
    ratings["audio_seconds"] = ratings["utterance_id"].map(audio).astype(float).round(3)


def condition_strata(test: ListeningTest) -> dict[str, dict[str, str]]:
    """``condition_<key>`` → {condition label: value} over the systems under test, by key."""
    out: dict[str, dict[str, str]] = {}
    systems = test.conditions.filter(role=Condition.Role.SYSTEM)
    for label, condition in systems.values_list("label", "stimulus_condition"):
        for key, value in (condition or {}).items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            out.setdefault(f"condition_{key}", {})[label] = text
    return dict(sorted(out.items()))


def strata_columns(test: ListeningTest) -> list[str]:
    """Every column a report of this test may be broken down by: the only names accepted."""
    return [*QUESTIONNAIRE, *UTTERANCE, *condition_strata(test)]


def strata_choices(test: ListeningTest) -> list[tuple[str, str]]:
    """(column, words) the results form offers: the questionnaire (its answers come later) and
    the stimulus columns with at least two values in this test."""
    chosen = test.utterances.all()
    utterances = chosen if chosen.exists() else test.corpus.utterances.all()
    choices = [(c, c.replace("_", " ")) for c in QUESTIONNAIRE]
    for column in UTTERANCE:
        field_name = column.removeprefix("utterance_")
        if utterances.values_list(field_name, flat=True).distinct().count() >= 2:
            choices.append((column, f"utterance {field_name}"))
    for column, by_label in condition_strata(test).items():
        if len(set(by_label.values())) >= 2:
            choices.append((column, f"condition: {column.removeprefix('condition_')}"))
    return choices


def _answers(questionnaire: dict) -> dict[str, str]:
    """The strata of one session. Native language is free text typed by a listener and goes
    into CSV files a scientist opens in a spreadsheet, so a leading = + - @ (which would make it
    a formula there) is dropped."""
    out = {k: str(questionnaire.get(k) or "") for k in QUESTIONNAIRE}
    out["native_language"] = out["native_language"].lstrip("=+-@\t\r ")
    return {k: v or NOT_ANSWERED for k, v in out.items()}


def condition_label(test: ListeningTest, role: str) -> str | None:
    condition = test.conditions.filter(role=role).first()
    return condition.label if condition else None


def attention_frame(test: ListeningTest) -> pd.DataFrame | None:
    """One row per scored attention check of the test's real (non-preview) sessions: listener
    ("S<session number>", as in ``ratings_frame``) and passed; None for a test that has no
    attention checks (and stored none), so its report lists no attention rule."""
    rows = list(
        AttentionCheck.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position")
        .values_list("session__number", "passed")
    )
    if not rows and not test.attention_checks:
        return None
    frame = pd.DataFrame.from_records(rows, columns=["number", "passed"])
    return pd.DataFrame({"listener": "S" + frame["number"].astype(str), "passed": frame["passed"]})


def acr_ratings(test: ListeningTest) -> pd.DataFrame | None:
    """An ACR or SMOS test's ratings as ``ratings_frame`` reads them; None for a pair type,
    whose table ``typed_results.typed_frame`` reads itself."""
    return None if test_types.of(test).pair else ratings_frame(test)
