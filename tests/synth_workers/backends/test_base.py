"""The request/capability contract and config checking shared by every backend."""

import pytest

from synth_workers.audio import Audio
from synth_workers.backends import (
    BackendError,
    ConfigKey,
    SynthRequest,
    language_matches,
    sampled_speaker_seed,
)
from synth_workers.backends.base import validate_config


@pytest.mark.parametrize(
    "fields, native, needed",
    [
        ({}, ["en-us"], {"tts"}),
        ({"speaker": 0}, ["en-us"], {"tts", "multi_speaker"}),
        ({"speaker": "f3", "style": "dj"}, ["en-us"], {"tts", "multi_speaker", "style"}),
        ({"prosody_reference": Audio([0.0] * 10, 16000)}, [], {"tts", "prosody_reference"}),
        ({"language": "en"}, ["en-us"], {"tts"}),
        ({"language": "EN_us"}, ["en-us"], {"tts"}),
        ({"language": "en-gb"}, ["en-us"], {"tts", "cross_lingual"}),
        ({"language": "de"}, ["en-us"], {"tts", "cross_lingual"}),
        ({"language": "de"}, [], {"tts", "cross_lingual"}),
        ({"language": "de"}, ["en-us", "de-de"], {"tts"}),
        ({"controls": {"speed": 2}}, ["en-us"], {"tts"}),
    ],
)
def test_required_capabilities_follow_the_documented_rule(fields, native, needed):
    assert SynthRequest("hello", **fields).required_capabilities(native) == needed


def test_language_tags_match_on_whole_subtags_only():
    assert language_matches("en", "en-US")
    assert language_matches("pt_BR", "pt-br")
    assert not language_matches("en-gb", "en-us")
    assert not language_matches("e", "en")


SCHEMA = {
    "voice": ConfigKey(str, default="en-us"),
    "speed": ConfigKey((int, float), required=True, help="words per second"),
}


def test_config_defaults_are_filled_in():
    assert validate_config(SCHEMA, {"speed": 2}) == {"voice": "en-us", "speed": 2}


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "config key 'speed' is required"),
        ({"speed": 1, "colour": "red"}, "unknown config key 'colour'; accepted keys: speed, voice"),
        ({"speed": "fast"}, "'speed' must be int or float, got str"),
        ({"speed": True}, "'speed' must be int or float, not a bool"),
    ],
)
def test_bad_config_is_refused_naming_the_key(config, message):
    with pytest.raises(BackendError, match=message):
        validate_config(SCHEMA, config)


def test_text_with_a_nul_character_is_refused(espeak):
    with pytest.raises(BackendError, match="NUL"):
        espeak.check_request(SynthRequest("hello\x00world"))


def test_a_backend_must_be_loaded_before_it_synthesises():
    from synth_workers.backends.espeak import EspeakBackend

    with pytest.raises(BackendError, match="'espeak-ng' is not loaded"):
        EspeakBackend().synthesize([SynthRequest("hello")])


def test_a_backend_missing_its_libraries_says_what_to_install():
    from synth_workers.backends.base import require_modules

    require_modules("piper", "numpy")  # present: nothing happens
    with pytest.raises(BackendError, match=r"needs no_such_lib_xyz on the worker.*\[worker\]"):
        require_modules("hf-vits", "numpy", "no_such_lib_xyz")


def test_a_sampled_speaker_needs_speaker_sampling_not_a_speaker_table():
    sampled = SynthRequest(text="a", speaker="sampled:7")
    assert sampled.required_capabilities() == {"tts", "speaker_sampling"}
    assert SynthRequest(text="a", speaker="jf_alpha").required_capabilities() == {
        "tts",
        "multi_speaker",
    }
    assert sampled_speaker_seed("sampled:7") == 7
    assert sampled_speaker_seed("jf_alpha") is None and sampled_speaker_seed(3) is None


@pytest.mark.parametrize("speaker", ["sampled:", "sampled:-1", "sampled:x", "sampled:4294967296"])
def test_a_malformed_sampled_speaker_is_refused_naming_the_seed_rule(speaker):
    with pytest.raises(BackendError, match="must be a whole number from 0 to 2147483647"):
        sampled_speaker_seed(speaker)
