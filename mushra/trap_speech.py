"""The spoken instruction of an ACR trap clip (ITU-T P.808), in the test's language.

An ACR test's attention checks are P.808 trapping questions: in a catch trial one system's sample
is replaced by a trap clip (``synth_workers.audio.trap``) whose voice asks for the answer
``TRAP_ANSWER``, named as the player names it (its number and its label in the test's language,
the translations of the player's catalogue). espeak-ng speaks it (the built-in baseline's engine,
offline), once per language and process. Japanese is written in kana: espeak-ng's Japanese reads
kana, not kanji.
"""

from __future__ import annotations

import functools

from synth_workers.audio.core import Audio

TRAP_ANSWER = 2  # "Poor": the answer a trap clip asks for
# language → (espeak-ng voice, what it says); the label is the player's word for 2 there.
INSTRUCTIONS = {
    "en": ("en", "This is an attention check. Please rate this sample two: Poor."),
    "de": ("de", "Dies ist eine Aufmerksamkeitsprüfung. Bitte bewerten Sie diese Hörprobe mit "
                 "zwei: Mäßig."),
    "fr": ("fr", "Ceci est un contrôle d'attention. Veuillez noter cet échantillon deux : "
                 "Médiocre."),
    "es": ("es", "Esta es una comprobación de atención. Por favor, valore esta muestra con dos: "
                 "Mediocre."),
    "ja": ("ja", "これは ちゅうい の かくにん です。 この おんせい には、 に、 わるい、 を "
                 "えらんで ください。"),
    "zh-hans": ("cmn", "这是注意力检查。请给这个样本选择二：差。"),
}  # fmt: skip


@functools.cache
def instruction(language: str) -> Audio:
    """The instruction spoken in ``language`` (a test's), English for one it lacks."""
    from synth_workers.backends.espeak_engine import engine  # loads libespeak-ng: on first use

    voice, text = INSTRUCTIONS.get(language, INSTRUCTIONS["en"])
    speech = engine()
    samples = speech.say(text, voice, {}, seed=0)
    return Audio(samples, speech.sample_rate)
