"""Fixtures of the MUSHRA tests: open tests on real, prepared audio (tests/support/listening.py)."""

import numpy as np
import pytest

from tests.support.listening import listen, open_test


@pytest.fixture
def mushra_test(db, tmp_path):
    return open_test(tmp_path)


@pytest.fixture
def rated_test(db, tmp_path):
    """Four items rated by six listeners, the last of them careless (hidden reference at 40)."""
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4)
    rng = np.random.default_rng(7)
    for n in range(6):
        listen(test, n, rng, careless=(n == 5))
    return test
