"""Loaded backends shared by a module: loading the Piper voice takes about a second."""

import pytest

from synth_workers.backends import get_backend, joe_voice_files


@pytest.fixture(scope="session")
def joe_files():
    return joe_voice_files()


@pytest.fixture(scope="session")
def joe(joe_files):
    backend = get_backend("piper")()
    backend.load(joe_files, {}, "cpu")
    return backend


@pytest.fixture(scope="session")
def espeak():
    backend = get_backend("espeak-ng")()
    backend.load({}, {}, "cpu")
    return backend
