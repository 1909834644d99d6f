"""Which objective metrics exist and which apply to a stimulus: the registry of the optional
``evalsite[metrics]`` extra (synth_workers/audio/metrics), read without touching the database.
Shared by the service that measures and stores (services/metrics.py) and the selectors that read
what is stored, so neither imports the other.

When a metric's package is missing the caller gets InputError("install evalsite[metrics] on the
workers …"), never a traceback.
"""

from collections.abc import Iterable

from evalsite.errors import InputError

INSTALL_HINT = "install evalsite[metrics] on the workers"
# Errors a missing metrics package raises: ImportError (PackageNotFoundError is one) from the
# model's import or version lookup, AudioError "not installed" from locating its model files.
MISSING_PACKAGE = (ImportError,)


def metric_registry() -> dict:
    """The registry of metrics, or InputError when the metrics library cannot be imported."""
    try:
        from synth_workers.audio.metrics import METRICS
    except ImportError as exc:
        raise InputError(f"{INSTALL_HINT} ({exc})") from None
    return METRICS


def chosen_metrics(names: Iterable[str] | None = None) -> list:
    """The registry's metrics named (all when ``names`` is empty), or InputError naming the
    unknown ones. A missing package shows later, in ``provenance`` or when measuring."""
    registry = metric_registry()
    wanted = list(dict.fromkeys(names or registry))
    unknown = [n for n in wanted if n not in registry]
    if unknown:
        raise InputError(
            f"unknown metric {', '.join(map(repr, unknown))}; known: {', '.join(sorted(registry))}"
        )
    return [registry[n] for n in wanted]


def provenance(metric) -> tuple[str, str, str]:
    """(name, version, model_hash) as stored; InputError when the metric's package is absent."""
    from synth_workers.audio import AudioError

    try:
        return metric.name, metric.version(), metric.model_hash()
    except (*MISSING_PACKAGE, AudioError) as exc:
        raise InputError(f"{INSTALL_HINT}: metric {metric.name!r} cannot load ({exc})") from None


def stimulus_language(condition: dict, utterance_language: str) -> str:
    return str(condition.get("language") or utterance_language or "")


def applies(metric, *, text: str, language: str) -> bool:
    if metric.needs_text and not text.strip():
        return False
    return metric.accepts_language(language)
