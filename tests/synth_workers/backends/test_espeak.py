"""The espeak-ng backend renders real speech through libespeak-ng (no model files)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from synth_workers.backends import BackendError, SynthRequest, get_backend
from synth_workers.backends.espeak import STYLES

from .speech import assert_speech_like, median_f0, rms

ENGLISH = "The quick brown fox jumps over the lazy dog."


def render(backend, **fields):
    return backend.synthesize([SynthRequest(**fields)])[0]


def test_english_is_rendered_as_speech(espeak):
    audio = render(espeak, text=ENGLISH)
    assert audio.sample_rate == 22050
    assert_speech_like(audio, ENGLISH)


@pytest.mark.parametrize(
    "language, text",
    [("de", "Guten Tag, wie geht es Ihnen heute?"), ("fr", "Bonjour, comment allez-vous?")],
)
def test_other_languages_are_rendered_as_speech(espeak, language, text):
    audio = render(espeak, text=text, language=language)
    assert_speech_like(audio, text)
    english_reading = render(espeak, text=text)
    assert audio.frames != english_reading.frames  # a German reading, not English letter rules


def test_excited_style_is_faster_and_higher_than_disappointed(espeak):
    excited = render(espeak, text=ENGLISH, style="excited")
    disappointed = render(espeak, text=ENGLISH, style="disappointed")
    assert excited.duration < 0.8 * disappointed.duration
    assert median_f0(excited) > 1.3 * median_f0(disappointed)


def test_every_style_renders_speech(espeak):
    for style in STYLES:
        assert_speech_like(render(espeak, text=ENGLISH, style=style), ENGLISH)


def test_female_variant_speaks_higher_than_the_default_voice(espeak):
    female = render(espeak, text=ENGLISH, speaker="f3")
    assert median_f0(female) > 1.4 * median_f0(render(espeak, text=ENGLISH))


def test_speed_control_shortens_the_utterance(espeak):
    fast = render(espeak, text=ENGLISH, controls={"speed": 2.0})
    assert fast.duration < 0.7 * render(espeak, text=ENGLISH).duration


def test_same_request_gives_identical_samples_even_after_other_requests(espeak):
    assert espeak.info.deterministic
    first = render(espeak, text=ENGLISH, speaker="klatt", seed=5)
    render(espeak, text="Something else entirely.", language="de", style="dj")
    again = render(espeak, text=ENGLISH, speaker="klatt", seed=5)
    np.testing.assert_array_equal(first.samples, again.samples)


def test_concurrent_requests_give_the_same_samples_as_sequential_ones(espeak):
    requests = [SynthRequest(f"Sentence number {i}.", style=s) for i, s in enumerate(STYLES)]
    sequential = [espeak.synthesize([r])[0].samples for r in requests]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda r: espeak.synthesize([r])[0].samples, requests))
    for a, b in zip(sequential, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_language_is_refused_by_name(espeak):
    with pytest.raises(BackendError, match="no language 'xx-nowhere'"):
        espeak.synthesize([SynthRequest("Hello", language="xx-nowhere")])


@pytest.mark.parametrize(
    "request_fields, message",
    [
        ({"speaker": "nobody"}, "no speaker .*'nobody'"),
        ({"speaker": "en-us+f3"}, "give the variant alone"),
        ({"speaker": 3}, "no speaker .*3"),
        ({"style": "furious"}, "unknown style 'furious'; available: neutral"),
        ({"controls": {"volume": 2}}, "unknown control 'volume'"),
        ({"controls": {"rate": 600}}, "control 'rate' is 600"),
        ({"text": ""}, "text is empty"),
        ({"text": "a" * 1001}, "1001 characters; the limit is 1000"),
    ],
)
def test_requests_it_cannot_honour_are_refused(espeak, request_fields, message):
    fields = {"text": "Hello there.", **request_fields}
    with pytest.raises(BackendError, match=message):
        espeak.synthesize([SynthRequest(**fields)])


def test_unknown_default_voice_is_refused_at_registration():
    with pytest.raises(BackendError, match="config key 'voice'.*'klingon'"):
        get_backend("espeak-ng").check_files({}, {"voice": "klingon"}, trusted=False)


def test_default_voice_from_the_config_is_used():
    backend = get_backend("espeak-ng")()
    backend.load({}, {"voice": "de"}, "cpu")
    text = "Guten Tag, wie geht es Ihnen heute?"
    german = backend.synthesize([SynthRequest(text)])[0]
    assert backend.info.languages == {"de"}
    assert rms(german) > 0.01
    espeak_de = backend.synthesize([SynthRequest(text, language="de")])[0]
    np.testing.assert_array_equal(german.samples, espeak_de.samples)


def test_british_english_is_spoken_by_the_voice_file_that_lists_it(espeak):
    """espeak-ng sets voices by file name ("en-US", "en"), not by language: "en-gb" is the
    file "en", and asking for it used to fail every item."""
    british = render(espeak, text=ENGLISH, language="en-gb")
    assert_speech_like(british, ENGLISH)
    np.testing.assert_array_equal(
        british.samples, render(espeak, text=ENGLISH, language="en").samples
    )
    assert british.frames != render(espeak, text=ENGLISH, language="en-us").frames
    assert rms(render(espeak, text=ENGLISH, language="en-gb", speaker="f3")) > 0.01


def test_every_language_it_offers_before_loading_is_spoken():
    """What describe() lists is what a job is checked against up front: each must render
    (a voice whose dictionary the wheel lacks would say nothing, so it is not listed)."""
    backend = get_backend("espeak-ng")
    offered = backend.describe({}, {}).accepted_languages
    assert {"en-gb", "en-us", "de"} <= offered and "en-uk" not in offered
    loaded = backend()
    loaded.load({}, {}, "cpu")
    silent = [
        tag for tag in sorted(offered) if not render(loaded, text="a", language=tag).samples.any()
    ]
    assert not silent
