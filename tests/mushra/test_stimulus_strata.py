"""Results broken down by the stimuli: the utterance's language, style and speaker and the
systems' synthesis-condition keys; gap closure with copy-synthesis as the top.

The LCPVAE shape: two systems rendered in two styles in one test, rated so that each style's
relative improvement is known exactly (scores are means ± balanced offsets), and a language
effect on the new system that cancels over the test but not within a language.
"""

import io
import json

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from mushra.analysis.cli import main as analysis_cli
from mushra.rating_reads import ratings_frame
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from synth_workers.models import Stimulus, System
from tests.support.listening import open_test, prepared_corpus, rate_every_trial

ROLE_MEANS = {"reference": 95, "anchor_low": 15, "anchor_mid": 45}
STYLED_MEANS = {("Baseline", "dj"): 50, ("Proposed", "dj"): 60}
STYLED_MEANS |= {("Baseline", "news"): 40, ("Proposed", "news"): 46}
LANGUAGES = ["en", "en", "es", "es"]
LANGUAGE_EFFECT = {"en": 6, "es": -6}  # on Proposed only; cancels over the four items


def _offset(listener: int, utterance, condition) -> int:
    """± 2 by listener and ± 1 by item and condition: zero on average over the design."""
    item = int(utterance.key.removeprefix("item"))
    return (2 if listener % 2 else -2) + (1 if (item + condition.pk) % 2 else -1)


def _styled_score(condition, utterance, listener: int) -> int:
    if condition.role != "system":
        mean = ROLE_MEANS[condition.role]
    else:
        system = condition.system.name
        mean = STYLED_MEANS[(system, condition.stimulus_condition["style"])]
        mean += LANGUAGE_EFFECT[utterance.language] if system == "Proposed" else 0
    return mean + _offset(listener, utterance, condition)


def _styled(corpus, system_name: str, style: str) -> None:
    """The system's audio of every utterance once more, as rendered in ``style``."""
    for stimulus in Stimulus.objects.filter(utterance__corpus=corpus, system__name=system_name):
        if stimulus.condition == {}:
            stimulus.pk = None
            stimulus.condition, stimulus.condition_key = {"style": style}, style
            stimulus.save()


@pytest.fixture
def styled_test(db, tmp_path):
    """Baseline and Proposed, each in the styles dj and news; items in English and Spanish."""
    corpus = prepared_corpus(
        tmp_path,
        name="Cross-lingual corpus",
        system_names=("Baseline", "Proposed"),
        manifest_columns={"language": LANGUAGES, "speaker": ["ana"] * 4},
    )
    systems = []
    for name in ("Baseline", "Proposed"):
        for style in ("dj", "news"):
            _styled(corpus, name, style)
            systems.append(SystemCondition(System.objects.get(name=name), {"style": style}))
    test = listening_test_create(
        name="LCPVAE styles", slug="styles", corpus=corpus, systems=systems, trials_per_session=4
    )
    test = listening_test_open(test=test)
    rate_every_trial(test, 4, _styled_score)
    return test


def _strata(data: dict, by: str) -> dict[str, dict]:
    return {s["value"]: s for s in data["strata"] if s["by"] == by}


def _gap(stratum: dict) -> dict:
    (gap,) = stratum["gaps"]
    return gap


STYLE_GAPS = [
    "Proposed · style=dj:Baseline · style=dj:Hidden reference",
    "Proposed · style=news:Baseline · style=news:Hidden reference",
]


def test_ratings_carry_the_utterance_and_condition_columns(styled_test):
    df = ratings_frame(styled_test)
    assert list(df.columns) == [
        "listener", "item", "condition", "score",
        "utterance_language", "utterance_style", "utterance_speaker", "condition_style",
        "age_band", "headphones", "native_language",
    ]  # fmt: skip
    assert set(df["utterance_language"]) == {"en", "es"}
    assert set(df["utterance_style"]) == {"(none)"} and set(df["utterance_speaker"]) == {"ana"}
    by_condition = df.groupby("condition")["condition_style"].first().to_dict()
    assert by_condition["Proposed · style=dj"] == "dj"
    # The reference and anchors have no style: blank, so every style's stratum counts them.
    assert by_condition["Hidden reference"] == by_condition["Low anchor (3.5 kHz)"] == ""


def test_per_style_relative_improvement_and_significance_come_from_one_test(styled_test, tmp_path):
    out = tmp_path / "report"
    gaps = [a for g in STYLE_GAPS for a in ("--gap", g)]
    by = ["--by", "condition_style", "--by", "utterance_language"]
    call_command("report", styled_test.slug, "--out", str(out), *gaps, *by, "--bootstrap", "300")
    data = json.loads((out / "analysis.json").read_text())
    styles = _strata(data, "condition_style")
    assert set(styles) == {"dj", "news"}
    for style, expected_r, top_gap in (("dj", 20.0, 10 / 45), ("news", 15.0, 6 / 55)):
        stratum = styles[style]
        assert "Hidden reference" in stratum["shared_conditions"]
        gap = _gap(stratum)
        assert gap["relative_improvement_pct"] == pytest.approx(expected_r)
        assert gap["gap_closure_pct"] == pytest.approx(100 * top_gap)
        assert gap["relative_improvement_ci95"][0] > 0
        (pair,) = stratum["pairwise"]  # the one pair rendered in this style
        assert pair["significant"] and pair["n_pairs"] == 4 * 4
    methods = (out / "report.html").read_text()
    assert "counted in every stratum of that column" in methods
    assert "the hidden reference, i.e. the recordings" in methods


def test_per_language_breakdown_separates_what_the_whole_test_averages(styled_test, tmp_path):
    out = tmp_path / "report"
    call_command(
        "report", styled_test.slug, "--out", str(out), "--by", "utterance_language",
        "--bootstrap", "200", "--format", "json",
    )  # fmt: skip
    data = json.loads((out / "analysis.json").read_text())
    whole = {c["condition"]: c["mean"] for c in data["conditions"]}
    assert whole["Proposed · style=dj"] == pytest.approx(60)
    languages = _strata(data, "utterance_language")
    assert [(v, s["n_items"], s["shared_conditions"]) for v, s in languages.items()] == [
        ("en", 2, []),
        ("es", 2, []),
    ]
    for language, effect in LANGUAGE_EFFECT.items():
        means = {c["condition"]: c["mean"] for c in languages[language]["conditions"]}
        assert means["Proposed · style=dj"] == pytest.approx(60 + effect)
        assert means["Baseline · style=dj"] == pytest.approx(50)


def test_the_form_offers_only_the_strata_of_the_test(styled_test, client, admin_user):
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{styled_test.pk}/").content.decode()
    for offered in ("headphones", "utterance_language", "condition_style"):
        assert f'name="by" value="{offered}"' in page
    for constant in ("utterance_style", "utterance_speaker"):  # one value: nothing to split
        assert f'value="{constant}"' not in page


def test_an_unknown_breakdown_is_refused_not_ignored(styled_test, client, admin_user, tmp_path):
    client.force_login(admin_user)
    url = f"/mushra/tests/{styled_test.pk}/results/analysis.json"
    refused = client.get(url, {"by": "score"}, follow=True).content.decode()
    assert "Break down by: no column &#x27;score&#x27; to break the results down by" in refused
    assert "condition_style" in refused  # the message lists what the test offers
    api = client.get(f"/api/v1/tests/{styled_test.pk}/results/analysis.json", {"by": "item"})
    assert api.status_code == 400
    error = api.json()["error"]  # the API names its query parameter; the command, its flag
    assert error.startswith("no results: query parameter by: no column 'item' to break the")
    with pytest.raises(CommandError, match="--by: no column 'condition_speed'"):
        call_command("report", styled_test.slug, "--out", str(tmp_path), "--by", "condition_speed")


def test_exports_carry_the_columns_and_the_cli_breaks_the_csv_down(
    styled_test, client, admin_user, tmp_path, capsys
):
    client.force_login(admin_user)
    base = f"/mushra/tests/{styled_test.pk}/results"
    csv = client.get(f"{base}/ratings.csv").content.decode()
    tidy = pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False)
    assert {"utterance_language", "utterance_speaker", "condition_style"} <= set(tidy.columns)
    options = {"by": ["condition_style", "utterance_language"]}
    options |= dict(zip(("new", "base", "top"), STYLE_GAPS[0].split(":"), strict=True))
    data = json.loads(client.get(f"{base}/analysis.json", options).content)
    assert {(s["by"], s["value"]) for s in data["strata"]} == {
        ("condition_style", "dj"), ("condition_style", "news"),
        ("utterance_language", "en"), ("utterance_language", "es"),
    }  # fmt: skip
    path = tmp_path / "ratings.csv"
    path.write_text(csv)
    args = ["--reference", "Hidden reference", "--gap", STYLE_GAPS[1], "--bootstrap", "200"]
    assert analysis_cli([str(path), *args, "--by", "condition_style"]) == 0
    cli = json.loads(capsys.readouterr().out)
    news = _gap(_strata(cli, "condition_style")["news"])
    assert news["relative_improvement_pct"] == pytest.approx(15.0)
    assert _strata(cli, "condition_style")["dj"]["gaps"] == []


COPY_MEANS = {"Copy-synthesis": 85, "CopyCat2": 60, "Baseline": 50}


def _copy_score(condition, utterance, listener: int) -> int:
    means = ROLE_MEANS if condition.role != "system" else COPY_MEANS
    key = condition.role if condition.role != "system" else condition.system.name
    return means[key] + _offset(listener, utterance, condition)


@pytest.fixture
def copy_test(db, tmp_path):
    names = ("Copy-synthesis", "CopyCat2", "Baseline")
    test = open_test(tmp_path, slug="copycat", system_names=names, trials_per_session=4)
    rate_every_trial(test, 4, _copy_score)
    return test


def test_copy_synthesis_is_a_top_on_the_results_page(copy_test, client, admin_user):
    client.force_login(admin_user)
    page = client.get(f"/mushra/tests/{copy_test.pk}/").content.decode()
    top = page[page.index("Top (recordings or copy-synthesis)") :].split("</select>")[0]
    assert "<option>Copy-synthesis</option>" in top and "<option>Hidden reference</option>" in top
    gap = {"new": "CopyCat2", "base": "Baseline", "top": "Copy-synthesis"}
    base = f"/mushra/tests/{copy_test.pk}/results"
    (figures,) = json.loads(client.get(f"{base}/analysis.json", gap).content)["gaps"]
    assert figures["top"] == "Copy-synthesis"
    assert figures["gap_closure_pct"] == pytest.approx(10 / 35 * 100)
    html = client.get(f"{base}/report.html", gap).content.decode()
    assert "of the gap between Baseline and Copy-synthesis" in html
    assert "recordings" not in html  # the top is not the recordings, and no word says it is


def test_report_command_takes_copy_synthesis_as_the_top(copy_test, tmp_path):
    out = tmp_path / "report"
    call_command(
        "report", copy_test.slug, "--out", str(out), "--gap", "CopyCat2:Baseline:Copy-synthesis",
        "--bootstrap", "200", "--format", "json", "--format", "html",
    )  # fmt: skip
    (figures,) = json.loads((out / "analysis.json").read_text())["gaps"]
    assert (figures["new"], figures["base"], figures["top"]) == (
        "CopyCat2",
        "Baseline",
        "Copy-synthesis",
    )
    assert figures["gap_closure_pct"] == pytest.approx(10 / 35 * 100)
    assert figures["relative_improvement_pct"] == pytest.approx(20.0)
    assert "Copy-synthesis as the top" in (out / "report.html").read_text()
