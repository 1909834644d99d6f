"""Backends by name: built-ins always, third-party ones through entry points, broken ones
reported without hiding the rest."""

import logging
import textwrap

import pytest

from synth_workers.backends import (
    ENTRY_POINT_GROUP,
    BackendError,
    SynthRequest,
    available_backends,
    get_backend,
)
from synth_workers.backends.espeak import EspeakBackend
from synth_workers.backends.piper import PiperBackend
from synth_workers.backends.registry import BUILTINS

TOY_MODULE = """
import numpy as np
from synth_workers.backends import Backend, BackendInfo

class ToyBackend(Backend):
    name = "toy"
    version = "0.1"
    capabilities = frozenset({"tts"})

    def load(self, files, config, device):
        self.info = BackendInfo(self.capabilities, frozenset({"en"}), sample_rate=8000)

    def render_batch(self, batch):
        return [np.full(800, 0.1, dtype=np.float32) for _ in batch]

class Impostor(ToyBackend):
    name = "piper"

class Misnamed(ToyBackend):
    name = "something-else"
"""
ENTRY_POINTS = f"""
[{ENTRY_POINT_GROUP}]
toy = toy_backend_plugin:ToyBackend
broken = toy_backend_missing_module:Nope
piper = toy_backend_plugin:Impostor
misnamed = toy_backend_plugin:Misnamed
"""


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """A real installed distribution (a .dist-info on sys.path) declaring four entry points."""
    (tmp_path / "toy_backend_plugin.py").write_text(textwrap.dedent(TOY_MODULE))
    dist_info = tmp_path / "toy_backends-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-backends\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_builtins_are_listed():
    backends = available_backends()
    assert backends["espeak-ng"] is EspeakBackend
    assert backends["piper"] is PiperBackend


def test_unknown_name_is_refused_listing_the_available_ones():
    with pytest.raises(
        BackendError,
        match=r"unknown backend 'tacotron9'; available: espeak-ng, hf-vits, kokoro, piper, "
        r"torchscript, world-prosody-transfer",
    ):
        get_backend("tacotron9")


def test_a_third_party_backend_is_found_and_renders(third_party):
    toy = available_backends()["toy"]
    backend = toy()
    backend.load({}, {}, "cpu")
    (audio,) = backend.synthesize([SynthRequest("hello")])
    assert (audio.sample_rate, audio.frames) == (8000, 800)


def test_broken_third_party_entry_points_do_not_hide_the_others(third_party, caplog):
    with caplog.at_level(logging.WARNING):
        backends = available_backends()
    assert set(backends) == {*BUILTINS, "toy"}
    assert backends["piper"] is PiperBackend  # a plug-in cannot take over a built-in name
    assert "toy_backend_missing_module" in caplog.text
    with pytest.raises(BackendError, match="'broken' could not be loaded .*ModuleNotFoundError"):
        get_backend("broken")
    with pytest.raises(
        BackendError, match="registered as 'misnamed'.*calls itself 'something-else'"
    ):
        get_backend("misnamed")
