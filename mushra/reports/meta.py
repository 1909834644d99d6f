"""What a report needs to know beyond the analysis result: roles, settings and provenance.

The analysis result says *what* was computed; the report must also say how (bootstrap size,
seed, whether screening ran) and on what (source, rated attribute), so a reader can reproduce it.
``generated`` is passed in rather than read from the clock so that the same inputs give the same
report, byte for byte (apart from the PDF's own metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from mushra.analysis.analyze import Spec


@dataclass(frozen=True)
class ReportMeta:
    """Settings and provenance of one report; see the module docstring."""

    title: str
    reference: str | None = None
    low_anchor: str | None = None
    mid_anchor: str | None = None
    n_boot: int = 10_000
    seed: int | None = 0
    screening: bool = True
    source: str = ""
    question: str | None = None
    generated: str = ""
    by: list[str] = field(default_factory=list)

    @property
    def anchors(self) -> list[str]:
        """Anchor conditions, highest expected score first (mid, then low)."""
        return [a for a in (self.mid_anchor, self.low_anchor) if a]

    @classmethod
    def for_spec(
        cls, spec: Spec, *, title: str, source: str, question: str | None = None
    ) -> ReportMeta:
        """The meta of a report on an analysis run with ``spec`` (resolved), generated now."""
        return cls(
            title=title,
            reference=spec.reference,
            low_anchor=spec.low_anchor,
            mid_anchor=spec.mid_anchor,
            n_boot=spec.n_boot,
            seed=spec.seed,
            screening=spec.screening,
            source=source,
            question=question,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            by=list(spec.by),
        )
