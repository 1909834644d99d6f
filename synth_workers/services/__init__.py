"""Writes of the synth_workers app (HackSoft style: `<entity>_<action>(*, …)`, one transaction)."""

from synth_workers.services.imports import ImportReport, corpus_import, rendered_import
from synth_workers.services.preparation import stimulus_prepare

__all__ = ["ImportReport", "corpus_import", "rendered_import", "stimulus_prepare"]
