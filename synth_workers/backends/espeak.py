"""The "espeak-ng" backend: formant synthesis in ~100 languages, no model files.

A deterministic, clearly synthetic voice: a useful low anchor and a sanity check of a pipeline.
Speakers are espeak's voice variants ("f3", "m1", "klatt", "whisper"...), languages are espeak
languages ("en-us", "de", "fr"...), and styles are presets of speaking rate and pitch.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from .base import (
    Backend,
    BackendInfo,
    ConfigKey,
    SynthRequest,
    check_controls,
    normalise_language,
    validate_config,
)
from .errors import BackendError
from .espeak_engine import engine

# Style presets as (words per minute, base pitch 0-100, pitch range 0-100); espeak's own defaults
# are 175 / 50 / 50. Chosen by ear to be clearly apart while staying intelligible: "excited"
# speaks fast, high and with wide intonation, "disappointed" slow, low and flat.
STYLES: dict[str, tuple[int, int, int]] = {
    "neutral": (175, 50, 50),
    "newscaster": (185, 45, 35),
    "dj": (210, 60, 80),
    "excited": (220, 70, 90),
    "disappointed": (130, 30, 15),
}
# rate/pitch/range replace the style's value; speed multiplies the rate.
CONTROL_RANGES = {"speed": (0.25, 4.0), "rate": (80, 450), "pitch": (0, 100), "range": (0, 100)}
RATE_LIMITS = (80, 450)  # what libespeak-ng accepts (espeakRATE_MINIMUM/MAXIMUM)


class EspeakBackend(Backend):
    name = "espeak-ng"
    version = "1.0"
    capabilities = frozenset({"tts", "multi_speaker", "cross_lingual", "style"})
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "voice": ConfigKey(str, default="en-us", help="language used when a request names none"),
    }
    file_roles: ClassVar[dict[str, str]] = {}

    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        super().check_files(files, config, trusted)
        _default_language(validate_config(cls.config_schema, config))

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        language = _default_language(validate_config(cls.config_schema, config))
        espeak = engine()
        return BackendInfo(
            capabilities=cls.capabilities,
            languages=frozenset({language}),
            accepted_languages=espeak.languages,
            speakers=espeak.variants,
            styles=tuple(STYLES),
            controls=tuple(CONTROL_RANGES),
            sample_rate=espeak.sample_rate,
            engine=f"espeak-ng {espeak.version} (espeakng-loader {_loader_version()})",
            deterministic=True,  # the engine reloads the library before every utterance
        )

    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        # espeak runs on the CPU whatever the device; there is nothing else to load.
        self.check_files(files, config, trusted=False)
        self.info = self.describe(files, config)
        self._default_language = next(iter(self.info.languages))

    def check_request(self, request: SynthRequest) -> None:
        super().check_request(request)
        self._voice(request)
        _parameters(request)

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        espeak = engine()
        return [espeak.say(r.text, self._voice(r), _parameters(r), r.seed) for r in batch]

    def _voice(self, request: SynthRequest) -> str:
        """espeak's voice name: language, then "+variant" when a speaker is asked for."""
        language = normalise_language(request.language) or self._default_language
        voice = engine().voices.get(language)
        if voice is None:
            raise BackendError(
                f"espeak-ng has no language '{request.language}' (examples: en-us, de, fr, es)"
            )
        if request.speaker is None:
            return voice
        speaker = request.speaker
        if not isinstance(speaker, str) or speaker not in engine().variants:
            hint = ""
            if isinstance(speaker, str) and "+" in speaker:
                hint = "; give the variant alone as speaker and the language as language"
            raise BackendError(
                f"espeak-ng has no speaker (voice variant) {speaker!r}{hint}; "
                "examples: m1, m3, f1, f3, klatt, whisper"
            )
        return f"{voice}+{speaker}"


def _parameters(request: SynthRequest) -> dict[str, int]:
    check_controls(request.controls, CONTROL_RANGES)
    rate, pitch, pitch_range = STYLES[request.style or "neutral"]
    controls = request.controls
    rate = controls.get("rate", rate) * controls.get("speed", 1.0)
    if not RATE_LIMITS[0] <= rate <= RATE_LIMITS[1]:
        raise BackendError(
            f"controls give a speaking rate of {rate:.0f} words/min; espeak-ng accepts "
            f"{RATE_LIMITS[0]} to {RATE_LIMITS[1]}"
        )
    return {
        "rate": round(rate),
        "pitch": round(controls.get("pitch", pitch)),
        "range": round(controls.get("range", pitch_range)),
        "volume": 100,
    }


def _default_language(config: dict) -> str:
    language = normalise_language(config["voice"])
    if language not in engine().languages:
        raise BackendError(
            f"config key 'voice': espeak-ng has no language '{config['voice']}' "
            "(examples: en-us, de, fr, es)"
        )
    return language


def _loader_version() -> str:
    try:
        return metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:
        return "unknown"
