"""Results of a test in the platform: the ratings as stored, `manage.py report`, and the links.

Ratings are given through the real services (session → trials → questionnaire), so the report
reads exactly what listeners would have left in the database.
"""

import json

import pytest
from django.core.management import CommandError, call_command

from mushra.models import Condition
from mushra.rating_reads import ratings_frame
from mushra.result_options import RESULT_FILES, result_names
from tests.support.listening import HEADPHONES, open_test


def _label(test, role):
    return Condition.objects.get(test=test, role=role).label


def test_ratings_frame_is_tidy_and_blind_to_participant_ids(rated_test):
    df = ratings_frame(rated_test)
    assert len(df) == 6 * 4 * 5  # sessions × trials × conditions (practice not stored)
    assert set(df["listener"]) == {f"S{n}" for n in range(1, 7)}
    assert set(df["condition"]) == set(
        Condition.objects.filter(test=rated_test).values_list("label", flat=True)
    )
    assert set(df["headphones"]) == set(HEADPHONES)
    assert "comment" not in df.columns
    assert set(df["native_language"]) == {"en", "HYPERLINK(1)"}  # never a formula in a CSV


def test_report_command_writes_every_file(rated_test, tmp_path, capsys):
    out = tmp_path / "report"
    call_command(
        "report",
        rated_test.slug,
        "--out",
        str(out),
        "--gap",
        f"Zephyr-TTS:Quokka-Voice:{_label(rated_test, 'reference')}",
        "--by",
        "headphones",
        "--bootstrap",
        "500",
    )
    names = {p.name for p in out.iterdir()}
    assert set(result_names(rated_test)) == {
        "report.html",
        "report.pdf",
        "ratings.csv",
        "mushra.csv",
        "analysis.json",
        "means.tex",
        "conditions.svg",
        "items.svg",
        "f0.svg",  # only once the test's F0 is measured (tests/mushra/test_objective_report.py)
        "sessions.csv",  # a row per session, for payments (tests/mushra/test_progress_page.py)
    }
    assert set(result_names(rated_test)) - {"f0.svg"} <= names and "f0.svg" not in names
    assert "report.txt" in RESULT_FILES and "report.txt" not in names  # the other types' only
    data = json.loads((out / "analysis.json").read_text())
    # The careless listener (hidden reference at 40 on every item) is screened out.
    assert [e["fraction"] for e in data["screening"]["excluded"]] == [1.0]
    assert data["n_listeners"] == 5
    means = {c["condition"]: c["mean"] for c in data["conditions"]}
    assert means["Zephyr-TTS"] > means["Quokka-Voice"] > means[_label(rated_test, "anchor_low")]
    assert 0 < data["gaps"][0]["gap_closure_pct"] < 100
    assert [s["value"] for s in data["strata"]] == list(HEADPHONES)
    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 2 and "Zephyr-TTS" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "wrote" in capsys.readouterr().out


def test_report_command_refuses_clearly(rated_test, tmp_path):
    with pytest.raises(CommandError, match="no listening test with slug 'nope'"):
        call_command("report", "nope", "--out", str(tmp_path))
    with pytest.raises(
        CommandError,
        match="--gap: the gap closure names a condition that is not in the data: 'Nobody'",
    ):
        call_command(
            "report",
            rated_test.slug,
            "--out",
            str(tmp_path / "x"),
            "--gap",
            "Nobody:Quokka-Voice:Zephyr-TTS",
        )
    assert not (tmp_path / "x").exists()


def test_results_links_serve_the_report_to_staff_only(rated_test, client, admin_user):
    url = f"/mushra/tests/{rated_test.pk}/results/report.html"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{rated_test.pk}/").content.decode()
    for name in RESULT_FILES:  # the F0 figure's button waits for measured F0; report.txt is
        # the other test types' (mushra.typed_results)
        assert (f"/results/{name}" in page) == (name not in ("f0.svg", "report.txt"))
    html = client.get(url, {"by": "headphones", "mixed": "full"})
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert html.content.decode().count("<svg") >= 2
    assert "(1|listener:condition)" in html.content.decode()  # the confirmatory model was fitted
    pdf = client.get(f"/mushra/tests/{rated_test.pk}/results/report.pdf")
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    csv = client.get(f"/mushra/tests/{rated_test.pk}/results/mushra.csv")
    assert csv["Content-Disposition"].startswith("attachment")
    assert csv.content.decode().startswith("session_test_id,")


def test_results_with_a_half_chosen_gap_say_what_is_missing(rated_test, client, admin_user):
    client.force_login(admin_user)
    url = f"/mushra/tests/{rated_test.pk}/results/analysis.json"
    response = client.get(url, {"new": "Zephyr-TTS"}, follow=True)
    shown = response.content.decode()  # named by the form's field, not an option of the CLI
    assert "Gap closure: the gap closure needs all three conditions" in shown


def test_no_ratings_yet_is_a_message_not_an_error(db, tmp_path, client, admin_user):
    test = open_test(tmp_path, n_items=2, slug="empty")
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert "No ratings yet" in page
    response = client.get(f"/mushra/tests/{test.pk}/results/report.pdf", follow=True)
    assert "has no ratings yet" in response.content.decode()


def test_the_test_page_shows_its_plots_inline_and_a_missing_plot_queues_no_message(
    rated_test, db, tmp_path, client, admin_user
):
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{rated_test.pk}/").content.decode()
    assert f'src="/mushra/tests/{rated_test.pk}/results/conditions.svg"' in page
    for name in ("conditions.svg", "items.svg"):
        plot = client.get(f"/mushra/tests/{rated_test.pk}/results/{name}")
        assert plot["Content-Type"] == "image/svg+xml"
        assert plot["Content-Disposition"].startswith("inline")
        assert b"<svg" in plot.content and b"Zephyr-TTS" in plot.content
    empty = open_test(tmp_path / "empty", n_items=2, slug="empty-plot", system_names=("Other",))
    missing = client.get(f"/mushra/tests/{empty.pk}/results/conditions.svg")
    assert missing.status_code == 404 and "has no ratings yet" in missing.content.decode()
    assert "has no ratings yet" not in client.get(f"/mushra/tests/{empty.pk}/").content.decode()
