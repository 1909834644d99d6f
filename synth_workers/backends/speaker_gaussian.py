"""New voices for a multi-speaker model: seeded draws from a Gaussian fitted to its speaker table.

Pure numpy (no torch), so any backend with a table of speaker embeddings can use it.

The distribution: mean and covariance of the table's rows (maximum likelihood), restricted to the
principal components the rows actually span. A checkpoint usually has fewer speakers than
embedding dimensions (VCTK VITS: 109 × 256), so the sample covariance is singular: it has no
variance at all outside the (speakers − 1)-dimensional subspace the speakers span. A diagonal
fit would ignore the strong correlations between learned dimensions, and a shrunk full-rank one
(Ledoit-Wolf) would add variance in directions no training speaker ever varied along, i.e.
embeddings the decoder never saw. So we keep the low-rank Gaussian: a draw is the mean plus
a combination of the speakers' own principal directions, each with its own variance. With more
speakers than dimensions this is the ordinary full-covariance Gaussian.

The guard against extrapolation: a draw's Mahalanobis radius (its distance from the mean in
standard deviations, in that subspace) is clipped to the largest radius of a training speaker,
so a new voice is never further out than the most unusual real one. (With the maximum-likelihood
covariance the training speakers' mean squared radius equals the rank, which is also the
expected squared radius of a draw: the clip only trims the tail.)

Reproducibility: the draw is ``numpy.random.default_rng(seed).standard_normal(rank)`` in the
principal axes, and each axis' sign is fixed (its largest-magnitude coordinate is positive), so
the same seed gives the same voice whatever sign the LAPACK build's SVD happens to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import BackendError

# Principal components whose singular value is below this fraction of the largest (times the
# table's size, as numpy.linalg.matrix_rank does) are rounding noise, not speaker variation.
RANK_TOLERANCE = np.finfo(np.float64).eps


@dataclass(frozen=True)
class SampledVoice:
    """One drawn speaker embedding and the facts a stimulus' provenance records about it."""

    seed: int
    embedding: np.ndarray  # float64, the table's width
    radius: float  # Mahalanobis radius after the guard
    drawn_radius: float  # before it
    radius_limit: float
    nearest_speaker: int  # the training speaker of highest cosine similarity
    cosine_to_nearest: float

    def provenance(self) -> dict:
        return {
            "seed": self.seed,
            "method": "gaussian",
            "covariance": "low-rank (principal components of the speaker table)",
            "radius": round(self.radius, 6),
            "radius_limit": round(self.radius_limit, 6),
            "clipped": self.drawn_radius > self.radius_limit,
            "nearest_training_speaker": self.nearest_speaker,
            "cosine_to_nearest": round(self.cosine_to_nearest, 6),
        }


class SpeakerGaussian:
    """The Gaussian of a speaker table (rows: speakers); ``draw(seed)`` gives a new voice."""

    def __init__(self, table: np.ndarray) -> None:
        table = np.asarray(table, dtype=np.float64)
        if table.ndim != 2 or table.shape[0] < 2 or not np.isfinite(table).all():
            raise BackendError(
                "speaker sampling needs a finite table of at least 2 speaker embeddings, got "
                f"shape {table.shape}"
            )
        self.table = table
        self.mean = table.mean(axis=0)
        centred = table - self.mean
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        keep = singular > singular[0] * max(table.shape) * RANK_TOLERANCE  # none if all equal
        axes = axes[keep]
        # A fixed sign per axis: its largest-magnitude coordinate positive.
        signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
        self.axes = axes * signs[:, None]  # (rank, width), orthonormal rows
        self.std = singular[keep] / np.sqrt(len(table))  # maximum likelihood: divide by n
        self.rank = len(self.std)
        self.training_radii = self.radii(table)
        self.radius_limit = float(self.training_radii.max()) if self.rank else 0.0

    def radii(self, embeddings: np.ndarray) -> np.ndarray:
        """Mahalanobis radius of each row (in the speakers' subspace; the rest is ignored)."""
        coords = (np.atleast_2d(embeddings) - self.mean) @ self.axes.T
        return np.linalg.norm(coords / self.std, axis=1)

    def draw(self, seed: int) -> SampledVoice:
        """The same voice for the same seed (and table)."""
        z = np.random.default_rng(seed).standard_normal(self.rank)
        drawn = float(np.linalg.norm(z))
        if drawn > self.radius_limit:
            z *= self.radius_limit / drawn
        embedding = self.mean + (z * self.std) @ self.axes
        cosines = _cosines(self.table, embedding)
        nearest = int(cosines.argmax())
        return SampledVoice(
            seed=seed,
            embedding=embedding,
            radius=min(drawn, self.radius_limit),
            drawn_radius=drawn,
            radius_limit=self.radius_limit,
            nearest_speaker=nearest,
            cosine_to_nearest=float(cosines[nearest]),
        )


def _cosines(table: np.ndarray, vector: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(table, axis=1) * np.linalg.norm(vector)
    return np.divide(table @ vector, norms, out=np.zeros(len(table)), where=norms > 0)
