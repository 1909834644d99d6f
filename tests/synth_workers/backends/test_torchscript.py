"""The torchscript backend with a scripted sine "voice" (tests/support/checkpoints.py)."""

import math
import zipfile

import numpy as np
import pytest
import torch

from synth_workers.backends import BackendError, SynthRequest, get_backend
from tests.support.checkpoints import TINY_SAMPLE_RATE, SineVoice, tiny_torchscript_file

TorchScript = get_backend("torchscript")
CONFIG = {"languages": ["en", "de"], "speakers": 3, "styles": ["calm", "loud"]}


class NoSynthesize(torch.nn.Module):
    sample_rate: int

    def __init__(self) -> None:
        super().__init__()
        self.sample_rate = 16000

    def forward(self, text: str) -> torch.Tensor:
        return torch.zeros(len(text))


class WrongSignature(SineVoice):
    @torch.jit.export
    def synthesize(self, text: str, speaker: int) -> torch.Tensor:  # type: ignore[override]
        return torch.zeros(len(text))

    def forward(self, text: str) -> torch.Tensor:
        return self.synthesize(text, 0)


class Failing(SineVoice):
    @torch.jit.export
    def synthesize(
        self, text: str, speaker: int, style: str, language: str, speed: float, seed: int
    ) -> torch.Tensor:
        if text == "boom":
            raise ValueError("this voice cannot say boom")
        return torch.full([100], float("nan"))


@pytest.fixture(scope="module")
def sine_files(tmp_path_factory):
    return {"model": tiny_torchscript_file(tmp_path_factory.mktemp("sine"))}


@pytest.fixture(scope="module")
def sine(sine_files):
    backend = TorchScript()
    backend.load(sine_files, CONFIG, "cpu")
    return backend


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def render(backend, text="hello there", **fields):
    return backend.synthesize([SynthRequest(text, **fields)])[0]


def test_untrusted_systems_refuse_torchscript_before_any_other_check(sine_files):
    for files in (sine_files, {}):  # even with the file missing, trust is what is reported
        with pytest.raises(BackendError, match="administrator must mark this system trusted"):
            TorchScript.check_files(files, CONFIG, trusted=False)


def test_trusted_systems_accept_it(sine_files):
    TorchScript.check_files(sine_files, CONFIG, trusted=True)


def test_describe_comes_from_the_config_alone(tmp_path):
    missing = {"model": tmp_path / "never-written.pt"}
    info = TorchScript.describe(missing, CONFIG)
    assert info.capabilities == {"tts", "multi_speaker", "style"}
    assert info.languages == {"en", "de"}
    assert info.speakers == ("0", "1", "2")
    assert info.styles == ("calm", "loud")
    assert info.controls == ("speed",)
    assert info.sample_rate is None  # a module attribute: known after loading
    plain = TorchScript.describe(missing, {"cross_lingual": True, "languages": ["EN_us"]})
    assert plain.capabilities == {"tts", "cross_lingual"}
    assert plain.languages == {"en-us"} and plain.speakers == () and plain.styles == ()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"languages": "en"}, "'languages' must be list"),
        ({"languages": []}, "must name at least one language"),
        ({"languages": ["en", 3]}, "'languages' must be a list of non-empty strings"),
        ({"styles": ["a", "a"]}, "'styles' lists an entry twice"),
        ({"speakers": 0}, "'speakers' must be a whole number >= 1"),
        ({"speakers": 2.0}, "'speakers' must be int"),
        ({"speakers": True}, "'speakers' must be int, not a bool"),
        ({"voices": 2}, "unknown config key 'voices'"),
    ],
)
def test_bad_configs_are_refused(sine_files, config, message):
    with pytest.raises(BackendError, match=message):
        TorchScript.check_files(sine_files, config, trusted=True)
    with pytest.raises(BackendError, match=message):
        TorchScript.describe(sine_files, config)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "voice.pt"
    path.write_bytes(b"#!/bin/sh\necho not a model\n")
    with pytest.raises(BackendError, match="'voice.pt' is not a TorchScript file"):
        TorchScript.check_files({"model": path}, {}, trusted=True)
    with pytest.raises(BackendError, match="'voice.pt' is not a TorchScript file"):
        TorchScript().load({"model": path}, {}, "cpu")


def test_a_torch_save_checkpoint_is_not_torchscript(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(3)}, path)
    with pytest.raises(BackendError, match="zip without TorchScript code .*torch.save"):
        TorchScript.check_files({"model": path}, {}, trusted=True)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BackendError, match="zip without TorchScript code"):
        TorchScript().load({"model": other_zip}, {}, "cpu")


@pytest.mark.parametrize(
    "module, message",
    [
        (NoSynthesize(), "has no method 'synthesize'"),
        (WrongSignature(), "synthesize must be \\(text: str, speaker: int, .*seed: int\\) -> Te"),
    ],
)
def test_modules_breaking_the_contract_are_refused_at_load(tmp_path, module, message):
    files = {"model": tiny_torchscript_file(tmp_path, module)}
    TorchScript.check_files(files, {}, trusted=True)  # looks like TorchScript: only load can tell
    with pytest.raises(BackendError, match=message):
        TorchScript().load(files, {}, "cpu")


def test_loaded_info_has_the_module_sample_rate(sine):
    assert sine.info.sample_rate == TINY_SAMPLE_RATE
    assert sine.info.capabilities == {"tts", "multi_speaker", "style"}
    assert sine.info.engine.startswith("torch ")


@pytest.mark.parametrize("speaker", [None, 0, 1, "2"])
def test_the_speaker_reaches_the_module(sine, speaker):
    audio = render(sine, speaker=speaker)
    expected = 220.0 * (int(speaker or 0) + 1)
    assert peak_hz(audio.samples[:, 0], audio.sample_rate) == pytest.approx(expected, abs=5)


def test_speed_and_text_set_the_length_and_style_the_level(sine):
    text = "hello there"  # 11 characters: 50 ms each at speed 1
    normal = render(sine, text=text)
    assert normal.frames == round(len(text) * 0.05 * TINY_SAMPLE_RATE)
    assert render(sine, text=text, controls={"speed": 2.0}).frames == normal.frames // 2
    assert render(sine, text=text, controls={"speed": 0.5}).frames == normal.frames * 2
    assert render(sine, text=text * 2).frames == 2 * normal.frames
    assert np.max(np.abs(normal.samples)) == pytest.approx(0.5, abs=0.01)
    assert np.max(np.abs(render(sine, style="loud").samples)) == pytest.approx(0.8, abs=0.01)
    assert render(sine, language="de").frames == normal.frames


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"speaker": 3}, "unknown speaker 3; this model has ids 0 to 2"),
        ({"speaker": "anna"}, "unknown speaker 'anna'"),
        ({"style": "angry"}, "unknown style 'angry'; available: calm, loud"),
        ({"language": "fr"}, "cross_lingual"),
        ({"controls": {"speed": 5}}, "'speed' is 5; it must be between 0.25 and 4.0"),
        ({"controls": {"noise_scale": 0.5}}, "unknown control 'noise_scale'"),
        ({"seed": 2**63}, "seed must be at most"),
    ],
)
def test_requests_it_cannot_honour_are_refused(sine, fields, message):
    with pytest.raises(BackendError, match=message):
        sine.synthesize([SynthRequest("hello", **fields)])


def test_errors_and_bad_samples_from_the_module_are_refused(tmp_path):
    backend = TorchScript()
    backend.load({"model": tiny_torchscript_file(tmp_path, Failing())}, {}, "cpu")
    with pytest.raises(BackendError, match="failed on text 'boom': .*cannot say boom"):
        backend.synthesize([SynthRequest("boom")])
    with pytest.raises(BackendError, match="non-finite samples"):
        backend.synthesize([SynthRequest("fine")])


def test_unknown_device_is_refused(sine_files):
    with pytest.raises(BackendError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        TorchScript().load(sine_files, {}, "gpu")


def test_sine_helper_is_what_the_module_says():
    voice = SineVoice()
    samples = voice.synthesize("ab", 1, "", "en", 1.0, 0)
    assert samples.shape == (round(2 * 0.05 * TINY_SAMPLE_RATE),)
    assert float(samples[1]) == pytest.approx(0.5 * math.sin(2 * math.pi * 440 / 16000), rel=1e-5)
