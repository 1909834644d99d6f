"""Objective metrics in a test's results (issue 13, items 1 and 2): measured for the test's
stimuli on demand, then in the report, the F0 figure, the tidy CSV and the JSON.

Real audio through the real services: tones whose pitch is known (recordings 180-240 Hz, Zephyr
300-330 Hz, Quokka 350-380 Hz; tests/support/listening.py), measured by the real metric models
in this process (a worker would run the same ``stimulus_measure``)."""

import csv
import io
import json

import pytest

from mushra import metric_reads, services
from synth_workers.models import MetricRequest, StimulusMetric
from synth_workers.services.metrics import stimulus_measure
from tests.support.listening import open_test, rate_every_trial

pytest.importorskip("swift_f0", reason="the metrics extra is not installed")
METRICS = ["f0", "speaker_embedding"]  # the two the figures below need; all are tested elsewhere
MEANS = {"reference": 95, "anchor_low": 15, "anchor_mid": 45}
SYSTEM_MEANS = {"Zephyr-TTS": 70, "Quokka-Voice": 55}


def _score(condition, utterance, listener: int) -> int:
    mean = MEANS.get(condition.role) or SYSTEM_MEANS[condition.system.name]
    return mean + (3 if listener % 2 else -3)


@pytest.fixture
def measured_test(db, tmp_path):
    test = open_test(tmp_path, slug="objective", trials_per_session=4)
    rate_every_trial(test, 3, _score)
    for pk in metric_reads.listening_test_metric_scope(test).values_list("pk", flat=True):
        stimulus_measure(stimulus_id=pk, names=METRICS)
    return test


def test_the_report_compares_each_systems_f0_with_the_recordings(measured_test, client, admin_user):
    client.force_login(admin_user)
    assert "/results/f0.svg" in client.get(f"/mushra/tests/{measured_test.pk}/").content.decode()
    base = f"/mushra/tests/{measured_test.pk}/results"
    data = json.loads(client.get(f"{base}/analysis.json").content)["objective"]
    f0 = {r["condition"]: r for r in data["f0"]["rows"]}
    assert data["f0"]["target"] == "Hidden reference"
    # 300-330 Hz is nearer 180-240 Hz than 350-380 Hz is: about 5 against 8 semitones.
    assert 3 < f0["Zephyr-TTS"]["wasserstein_st"] < f0["Quokka-Voice"]["wasserstein_st"] < 11
    table = {r["condition"]: r for r in data["table"]}
    assert table["Zephyr-TTS"]["n_stimuli"] == 4
    assert (
        table["Hidden reference"]["speaker_similarity"]
        > table["Quokka-Voice"]["speaker_similarity"]
    )
    rho = {r["metric"]: r for r in data["correlations"]}
    assert rho["f0_median_st"]["n_conditions"] == 5  # reference, two anchors, two systems

    html = client.get(f"{base}/report.html").content.decode()
    assert "Objective metrics" in html and 'id="mushra-f0-' in html  # the inline F0 figure
    assert "Wasserstein to target" in html and "Spearman" in html
    svg = client.get(f"{base}/f0.svg")
    assert svg.status_code == 200 and b"F0 distributions" in svg.content


def test_the_tidy_csv_carries_each_ratings_stimulus_metrics(measured_test, client, admin_user):
    client.force_login(admin_user)
    body = client.get(f"/mushra/tests/{measured_test.pk}/results/ratings.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and {"metric_f0_median_st", "metric_speaker_similarity"} <= set(rows[0])
    zephyr = [float(r["metric_f0_median_st"]) for r in rows if r["condition"] == "Zephyr-TTS"]
    reference = [
        float(r["metric_f0_median_st"]) for r in rows if r["condition"] == "Hidden reference"
    ]
    assert min(zephyr) > max(reference)  # 300+ Hz against at most 240 Hz
    assert all(r["metric_wer"] == "" for r in rows)  # not measured: blank, not zero


def test_a_report_without_measurements_has_no_metrics_section(db, tmp_path, client, admin_user):
    test = open_test(tmp_path, slug="plain", trials_per_session=4)
    rate_every_trial(test, 2, _score)
    client.force_login(admin_user)
    base = f"/mushra/tests/{test.pk}/results"
    assert "objective" not in json.loads(client.get(f"{base}/analysis.json").content)
    assert "Objective metrics" not in client.get(f"{base}/report.html").content.decode()
    assert "metric_" not in client.get(f"{base}/ratings.csv").content.decode().splitlines()[0]
    assert client.get(f"{base}/f0.svg").status_code == 404  # no F0 measured: no figure


def test_the_button_queues_the_tests_stimuli_and_the_bar_counts_them(
    db, tmp_path, client, admin_user
):
    test = open_test(tmp_path, n_items=2, slug="button", trials_per_session=2)
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert 'id="measure-metrics"' in page and 'id="metrics-bar"' in page
    progress = client.get(f"/mushra/tests/{test.pk}/metrics.json").json()
    ready = progress["ready"]
    # 2 items × (recordings, two anchors, two systems)
    assert (ready, progress["measured"]) == (10, 0)
    response = client.post(f"/mushra/tests/{test.pk}/metrics", follow=True)
    assert f"Measuring {ready} stimuli on the workers." in response.content.decode()
    request = MetricRequest.objects.get()
    assert set(request.systems.values_list("name", flat=True)) >= {"Zephyr-TTS", "Quokka-Voice"}
    # What a worker does for each queued stimulus; then the bar is full.
    for pk in metric_reads.listening_test_metric_scope(test).values_list("pk", flat=True):
        stimulus_measure(stimulus_id=pk)
    assert client.get(f"/mushra/tests/{test.pk}/metrics.json").json() == {
        "ready": 10,
        "measured": 10,
    }
    assert (
        services.listening_test_metrics_request(test=test) == 0
    )  # nothing left: nothing queued again
    assert StimulusMetric.objects.filter(name="f0").count() == 10
