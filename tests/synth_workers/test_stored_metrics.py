"""Objective metrics stored per stimulus (DESIGN.md §12): one row per applicable metric and
version, measured again by nothing, through the service, a real worker and the command.

The audio is the prepared tones of tests/support/listening.py: not speech, so DNSMOS, WER and the
speaker embedding give just numbers (or a recorded "no speech" error), which is all these tests
need: what is stored, with which provenance, and how often.
"""

import dataclasses
import time

import pytest
from django.core.management import CommandError, call_command

from evalsite.errors import InputError
from synth_workers.audio.metrics import METRICS
from synth_workers.models import MetricRequest, Stimulus, StimulusMetric, System
from synth_workers.selectors import corpus_metrics_progress, metric_scope_progress
from synth_workers.services.metrics import corpus_metrics_request, stimulus_measure
from synth_workers.services.recovery import cpu_resume
from tests.support.listening import prepared_corpus

FAST = ["f0", "speaking_rate", "wer_relative"]  # no DNSMOS/speaker model: quick on a worker


def english_and_french(folder, name: str = "Metrics corpus"):
    """Two items, the second in French: every system's stimulus of it gets no WER."""
    return prepared_corpus(
        folder, n_items=2, name=name, manifest_columns={"language": ["en", "fr"]}
    )


def ready_ids(corpus) -> list[int]:
    ready = Stimulus.objects.filter(utterance__corpus=corpus, status=Stimulus.Status.READY)
    return list(ready.values_list("pk", flat=True))


def test_measuring_stores_each_applicable_metric_once_with_the_registry_provenance(db, tmp_path):
    corpus = english_and_french(tmp_path)
    ids = ready_ids(corpus)
    assert len(ids) == 10  # 2 items × (recording + its 2 anchors + 2 rendered systems)
    stored = sum(stimulus_measure(stimulus_id=pk) for pk in ids)
    assert stored == 5 * 5 + 5 * 4  # English: all five metrics; French: all but WER
    for row in StimulusMetric.objects.select_related("stimulus__utterance"):
        metric = METRICS[row.name]
        assert (row.version, row.model_hash) == (metric.version(), metric.model_hash())
        assert row.value  # the metric's dict, or the reason it could not measure this audio
    french = StimulusMetric.objects.filter(stimulus__utterance__language="fr")
    assert not french.filter(name="wer_relative").exists()
    assert french.filter(name="speaking_rate").count() == 5
    f0 = StimulusMetric.objects.filter(name="f0").first().value
    assert {"voiced_fraction", "median_st", "values_st"} <= set(f0)

    assert sum(stimulus_measure(stimulus_id=pk) for pk in ids) == 0  # again: nothing more
    assert StimulusMetric.objects.count() == stored
    assert corpus_metrics_progress(corpus) == {"ready": 10, "measured": 10}


def test_a_new_metric_version_is_stored_beside_the_old_one(db, tmp_path, monkeypatch):
    corpus = english_and_french(tmp_path)
    stimulus_id = ready_ids(corpus)[0]
    assert stimulus_measure(stimulus_id=stimulus_id, names=["speaking_rate"]) == 1
    revised = dataclasses.replace(METRICS["speaking_rate"], revision=2)
    monkeypatch.setitem(METRICS, "speaking_rate", revised)
    assert stimulus_measure(stimulus_id=stimulus_id, names=["speaking_rate"]) == 1
    assert stimulus_measure(stimulus_id=stimulus_id, names=["speaking_rate"]) == 0
    versions = StimulusMetric.objects.filter(stimulus=stimulus_id).values_list("version", flat=True)
    assert sorted(versions) == ["1", "2"]


def test_wer_follows_the_condition_language_over_the_utterance_language(db, tmp_path):
    corpus = english_and_french(tmp_path)
    english = Stimulus.objects.filter(
        utterance__corpus=corpus, utterance__language="en", condition={}
    ).first()
    Stimulus.objects.filter(pk=english.pk).update(condition={"language": "es"})
    assert stimulus_measure(stimulus_id=english.pk, names=["wer_relative", "speaking_rate"]) == 1
    assert list(StimulusMetric.objects.values_list("name", flat=True)) == ["speaking_rate"]


def test_a_stimulus_not_ready_is_not_measured(db, tmp_path):
    corpus = english_and_french(tmp_path)
    stimulus_id = ready_ids(corpus)[0]
    Stimulus.objects.filter(pk=stimulus_id).update(status=Stimulus.Status.PENDING)
    assert stimulus_measure(stimulus_id=stimulus_id) == 0
    assert corpus_metrics_progress(corpus, FAST)["ready"] == 9
    assert not StimulusMetric.objects.exists()


def test_a_metric_whose_package_is_missing_asks_to_install_the_extra(db, tmp_path, monkeypatch):
    corpus = english_and_french(tmp_path)
    absent = dataclasses.replace(METRICS["f0"], distribution="evalsite-no-such-package")
    monkeypatch.setitem(METRICS, "f0", absent)
    with pytest.raises(InputError, match=r"install evalsite\[metrics\] on the workers"):
        stimulus_measure(stimulus_id=ready_ids(corpus)[0], names=["f0"])
    assert not StimulusMetric.objects.exists()


def test_an_unknown_metric_is_refused_by_name(db, tmp_path):
    corpus = english_and_french(tmp_path)
    with pytest.raises(InputError, match="unknown metric 'no-such-metric'; known: "):
        stimulus_measure(stimulus_id=ready_ids(corpus)[0], names=["no-such-metric"])
    with pytest.raises(InputError, match="no-such-metric"):
        corpus_metrics_request(corpus=corpus, names=["no-such-metric"])
    assert not MetricRequest.objects.exists()


def test_the_command_refuses_an_unknown_corpus_or_metric_with_exit_code_2(db, tmp_path):
    with pytest.raises(CommandError, match="no corpus named 'Nowhere'") as refused:
        call_command("measure_metrics", "Nowhere")
    assert refused.value.returncode == 2
    english_and_french(tmp_path)
    with pytest.raises(CommandError, match="unknown metric 'pitchiness'") as refused:
        call_command("measure_metrics", "Metrics corpus", "--metric", "pitchiness")
    assert refused.value.returncode == 2


def test_the_command_measures_in_process_and_prints_each_systems_means(db, tmp_path, capsys):
    corpus = english_and_french(tmp_path)
    call_command("measure_metrics", "Metrics corpus", "--metric", "f0", "--metric", "speaking_rate")
    out = capsys.readouterr()
    assert "10/10" in out.err  # the progress bar, stimuli measured of total
    lines = out.out.splitlines()
    assert lines[0].split()[:3] == ["system", "F0", "median"]
    zephyr = next(line for line in lines if line.startswith("Zephyr-TTS "))
    rate_column = lines[0].index("rate (/s)")
    assert zephyr[rate_column : rate_column + 9].strip() not in ("", "-")
    assert any(line.startswith(f"{corpus.recordings.name} (anchor_35)") for line in lines)
    assert corpus_metrics_progress(corpus, ["f0", "speaking_rate"])["measured"] == 10


def wait_until_measured(corpus, names, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (progress := corpus_metrics_progress(corpus, names))["measured"] < progress["ready"]:
        assert time.monotonic() < deadline, f"metrics not measured in time: {progress}"
        time.sleep(0.3)
    return progress


@pytest.mark.slow
def test_a_worker_measures_a_requested_corpus_until_every_stimulus_is_measured(
    transactional_db, worker_media, tmp_path
):
    corpus = english_and_french(tmp_path)
    assert corpus_metrics_request(corpus=corpus, names=FAST) == 10
    assert wait_until_measured(corpus, FAST) == {"ready": 10, "measured": 10}
    assert StimulusMetric.objects.count() == 5 * 3 + 5 * 2
    assert corpus_metrics_request(corpus=corpus, names=FAST) == 0  # nothing left to queue


@pytest.mark.slow
def test_a_starting_worker_queues_again_the_metrics_a_request_still_lacks(
    transactional_db, worker_media, tmp_path
):
    corpus = english_and_french(tmp_path)
    # As a killed worker leaves it: the request is recorded, its messages are gone.
    MetricRequest.objects.create(corpus=corpus, names=["speaking_rate"])
    assert cpu_resume()["metric measurements"] == 10  # what worker_ready runs on a `cpu` worker
    assert wait_until_measured(corpus, ["speaking_rate"])["measured"] == 10
    assert cpu_resume()["metric measurements"] == 0


@pytest.mark.slow
def test_a_request_for_some_systems_resumes_for_those_systems_only(
    transactional_db, worker_media, tmp_path
):
    """A test's request covers its systems' stimuli; a starting worker resumes no more."""
    corpus = english_and_french(tmp_path)
    zephyr = System.objects.get(name="Zephyr-TTS")
    request = MetricRequest.objects.create(corpus=corpus, names=["speaking_rate"])
    request.systems.set([zephyr])
    assert cpu_resume()["metric measurements"] == 2  # Zephyr's two stimuli, nothing else
    scope = Stimulus.objects.filter(system=zephyr)
    deadline = time.monotonic() + 120
    while metric_scope_progress(scope, ["speaking_rate"])["measured"] < 2:
        assert time.monotonic() < deadline, "Zephyr's stimuli were not measured"
        time.sleep(0.3)
    assert StimulusMetric.objects.exclude(stimulus__system=zephyr).count() == 0
    assert cpu_resume()["metric measurements"] == 0


@pytest.mark.slow
def test_the_command_queues_and_follows_the_workers(transactional_db, worker_media, tmp_path):
    corpus = english_and_french(tmp_path)
    call_command("measure_metrics", corpus.name, "--metric", "speaking_rate", "--queue")
    assert corpus_metrics_progress(corpus, ["speaking_rate"]) == {"ready": 10, "measured": 10}
    assert StimulusMetric.objects.filter(name="speaking_rate").count() == 10
