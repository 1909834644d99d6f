"""Duration and speaking rate from the audio and the text it says (no model).

The rate is counted units of the text per second of speech, where speech runs from the first to
the last 10 ms frame above -50 dBFS (leading and trailing silence do not count; pauses inside do).
Units, a deliberately simple and documented estimate:
- text in Latin script: syllables, counted as groups of consecutive vowels (a e i o u y and their
  accented forms) per word, at least one per word; for English a final silent "e" is dropped
  ("made" 1; "create" counts 1 where it has 2: such errors are systematic, so rates of the same
  text stay comparable, which is what comparing systems needs);
- any other script: letters (characters that are alphabetic, e.g. kana and kanji), since those
  scripts have no vowel letters to group.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from ..core import Audio, AudioError
from ..edit import trim_silence
from .base import Metric, mono_samples

SILENCE_DB = -50.0
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def speaking_rate(
    samples: np.ndarray, sample_rate: int, *, text: str = "", language: str = "", **_context: object
) -> dict:
    """``duration_s`` (whole file), ``speech_s`` (first to last sound above -50 dBFS), ``units``
    counted in ``text``, ``unit`` ("syllables" or "characters") and ``rate_per_s`` = units per
    second of speech (None when the file is silent)."""
    mono = mono_samples(samples, sample_rate, metric="speaking rate")
    units, unit = text_units(text, language)
    try:
        # No padding: the span runs exactly from the first to the last frame above the level.
        speech_s = trim_silence(Audio(mono, int(sample_rate)), SILENCE_DB, 0.0).duration
    except AudioError:  # silent: it has a duration but no speech to measure a rate over
        speech_s = 0.0
    return {
        "duration_s": mono.size / sample_rate,
        "speech_s": speech_s,
        "units": units,
        "unit": unit,
        "rate_per_s": units / speech_s if speech_s > 0 else None,
    }


def text_units(text: str, language: str = "") -> tuple[int, str]:
    """(count, unit) for the text: vowel-group syllables in Latin script, else letters."""
    normal = unicodedata.normalize("NFKC", text).lower()
    letters = [c for c in normal if c.isalpha()]
    if not letters:
        raise AudioError("speaking rate: the text has no letters to count")
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    if latin * 2 < len(letters):
        return len(letters), "characters"
    english = language.strip().lower()[:2] in ("", "en")
    return sum(syllables(word, english=english) for word in _WORD.findall(normal)), "syllables"


def syllables(word: str, *, english: bool = True) -> int:
    """Vowel groups in one word, at least one; English drops a silent final "e" ("made")."""
    plain = _without_accents(word.lower())
    if english and plain.endswith("e") and not plain.endswith(("le", "ee")) and len(plain) > 2:
        plain = plain[:-1]
    return max(1, len(_VOWEL_GROUP.findall(plain)))


def _without_accents(word: str) -> str:
    """é -> e, ü -> u: an accented vowel is a vowel of the same group."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


METRIC = Metric(
    name="speaking_rate",
    function=speaking_rate,
    revision=1,
    distribution=None,
    model_files=list,
    needs_text=True,
    description="duration and speaking rate (syllables or characters per second of speech)",
)
