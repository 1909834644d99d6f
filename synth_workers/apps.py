from django.apps import AppConfig


class SynthWorkersConfig(AppConfig):
    """Systems, corpora, stimuli and the synthesis workers that render them."""

    name = "synth_workers"
    verbose_name = "Synthesis"
