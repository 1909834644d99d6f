"""Word error rate of English speech against its text, recognised by pocketsphinx (CMU Sphinx's
en-us acoustic model, language model and dictionary, shipped in its wheel).

Relative only: pocketsphinx is a weak recogniser (a 2010s GMM model with a generic trigram LM), so
even clean natural speech scores well above zero. Its WER ranks systems saying the same texts
(higher means less intelligible to it); it is not an intelligibility figure to quote alone.

Text normalisation (both sides): Unicode NFKC, lower case, curly apostrophes made straight,
every character that is not a letter, digit or in-word apostrophe becomes a space. Numbers are not
spelled out, so texts meant for WER should write them in words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np

from ..core import AudioError
from .base import Metric, at_model_rate, package_folder

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_lock = threading.Lock()


def wer_relative(
    samples: np.ndarray, sample_rate: int, *, text: str = "", language: str = "", **_context: object
) -> dict:
    """``wer`` = (substitutions + deletions + insertions) / reference words, of pocketsphinx's
    transcript against ``text``; also ``errors``, ``reference_words`` and the ``hypothesis``."""
    if not METRIC.accepts_language(language or "en"):
        raise AudioError(
            f"WER: the text's language is {language!r}; pocketsphinx ships an English model only"
        )
    reference = normalise_text(text)
    if not reference:
        raise AudioError("WER: the text has no words to compare the recognised speech with")
    audio = at_model_rate(samples, sample_rate, metric="WER")
    hypothesis = normalise_text(_recognise(audio))
    errors = word_errors(reference, hypothesis)
    return {
        "wer": errors / len(reference),
        "errors": errors,
        "reference_words": len(reference),
        "hypothesis": " ".join(hypothesis),
    }


def normalise_text(text: str) -> list[str]:
    """The words of a text, compared as pocketsphinx writes them (see the module docstring)."""
    normal = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("`", "'")
    return _TOKEN.findall(normal)


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance in words: the fewest substitutions, deletions and insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


def _recognise(audio: np.ndarray) -> str:
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    decoder = _decoder()
    with _lock:  # one decoder per process; an utterance must not interleave with another
        # The feature front end keeps cepstral-mean state between utterances; resetting it makes
        # the transcript of a file independent of what was decoded before (determinism).
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


@cache
def _decoder():
    """The decoder on the wheel's en-us model, once per process. Paths are given explicitly so the
    POCKETSPHINX_PATH environment variable cannot swap the model behind the stored hash."""
    from pocketsphinx import Decoder

    model = _model_folder()
    return Decoder(
        hmm=str(model / "en-us"),
        lm=str(model / "en-us.lm.bin"),
        dict=str(model / "cmudict-en-us.dict"),
        samprate=16000,
        loglevel="FATAL",  # it logs every utterance to stderr otherwise
    )


def _model_folder():
    return package_folder("pocketsphinx") / "model" / "en-us"


def _model_files():
    folder = _model_folder()
    return sorted(
        [*(folder / "en-us").iterdir(), folder / "en-us.lm.bin", folder / "cmudict-en-us.dict"]
    )


METRIC = Metric(
    name="wer_relative",
    function=wer_relative,
    revision=1,
    distribution="pocketsphinx",
    model_files=_model_files,
    needs_text=True,
    languages=("en",),
    description="WER against the text (pocketsphinx en-us): relative, for ranking systems only",
)
