"""The speaker-table Gaussian behind "sampled:<seed>" voices (pure numpy)."""

import numpy as np
import pytest

from synth_workers.backends import BackendError
from synth_workers.backends.speaker_gaussian import SpeakerGaussian


def table(speakers, width, seed=0):
    return np.random.default_rng(seed).normal(size=(speakers, width)) * np.linspace(1, 3, width)


def test_fewer_speakers_than_dimensions_draw_within_the_speakers_own_subspace():
    rows = table(5, 16)
    space = SpeakerGaussian(rows)
    assert space.rank == 4
    basis = np.linalg.svd(rows - rows.mean(axis=0))[2][:4]
    for seed in range(20):
        offset = space.draw(seed).embedding - rows.mean(axis=0)
        # Nothing outside the directions the training speakers vary along.
        np.testing.assert_allclose(offset - offset @ basis.T @ basis, 0, atol=1e-9)


def test_more_speakers_than_dimensions_is_the_full_gaussian():
    rows = table(400, 4)
    space = SpeakerGaussian(rows)
    assert space.rank == 4
    draws = np.stack([space.draw(seed).embedding for seed in range(3000)])
    np.testing.assert_allclose(draws.mean(axis=0), rows.mean(axis=0), atol=0.15)
    # Clipping at the outermost speaker trims the tail only: the spread stays close to the table's.
    np.testing.assert_allclose(draws.std(axis=0) / rows.std(axis=0), 1, atol=0.1)


def test_every_draw_is_within_the_largest_training_radius():
    space = SpeakerGaussian(table(30, 8))
    radii = [space.draw(seed).radius for seed in range(500)]
    assert max(radii) <= space.radius_limit + 1e-12
    assert space.radius_limit == space.training_radii.max()
    # With the maximum-likelihood covariance the training speakers' mean squared radius is the
    # rank, which is also a draw's expected squared radius.
    assert np.mean(space.training_radii**2) == pytest.approx(space.rank)


def test_two_speakers_give_voices_between_them():
    a, b = np.array([1.0, 0.0, 2.0]), np.array([3.0, 4.0, 2.0])
    space = SpeakerGaussian(np.stack([a, b]))
    assert space.rank == 1
    for seed in range(50):
        voice = space.draw(seed).embedding
        t = (voice - a) @ (b - a) / ((b - a) @ (b - a))
        np.testing.assert_allclose(voice, a + t * (b - a), atol=1e-12)
        assert 0 - 1e-12 <= t <= 1 + 1e-12


def test_the_same_seed_is_the_same_voice_whatever_the_svd_sign(monkeypatch):
    rows = table(6, 10)
    space = SpeakerGaussian(rows)
    svd = np.linalg.svd

    def other_signs(matrix, **kwargs):  # what another LAPACK build may return
        u, s, vt = svd(matrix, **kwargs)
        flip = np.where(np.arange(len(s)) % 2 == 0, -1.0, 1.0)
        return u * flip, s, vt * flip[:, None]

    monkeypatch.setattr(np.linalg, "svd", other_signs)
    flipped = SpeakerGaussian(rows)
    np.testing.assert_allclose(flipped.axes, space.axes, atol=1e-12)
    np.testing.assert_allclose(flipped.draw(3).embedding, space.draw(3).embedding, atol=1e-12)
    assert not np.allclose(space.draw(3).embedding, space.draw(4).embedding)


def test_identical_speakers_give_their_one_voice():
    space = SpeakerGaussian(np.ones((3, 4)))
    assert space.rank == 0
    voice = space.draw(9)
    np.testing.assert_array_equal(voice.embedding, np.ones(4))
    assert voice.radius == 0 and voice.cosine_to_nearest == pytest.approx(1)


@pytest.mark.parametrize("bad", [np.ones((1, 4)), np.ones(4), np.array([[1.0, np.nan]] * 3)])
def test_a_table_that_cannot_be_fitted_is_refused(bad):
    with pytest.raises(BackendError, match="speaker sampling needs a finite table"):
        SpeakerGaussian(bad)


def test_provenance_names_the_nearest_training_speaker():
    rows = table(8, 6)
    voice = SpeakerGaussian(rows).draw(1)
    cosines = (
        rows @ voice.embedding / (np.linalg.norm(rows, axis=1) * np.linalg.norm(voice.embedding))
    )
    facts = voice.provenance()
    assert facts["seed"] == 1 and facts["nearest_training_speaker"] == int(cosines.argmax())
    assert facts["cosine_to_nearest"] == pytest.approx(cosines.max(), abs=1e-6)
