"""The platform's results: the confirmatory model is the default and backs the claims (issue 15)."""

import json
from dataclasses import replace

import pytest

from mushra import results
from mushra.analysis import AnalysisError, analyze
from mushra.analysis.claims import CONFIRMATORY, LISTENER_LEVEL
from mushra.rating_reads import ratings_frame
from mushra.results import ReportOptions


def analysis_json(client, test, **query) -> dict:
    response = client.get(f"/mushra/tests/{test.pk}/results/analysis.json", query)
    assert response.status_code == 200, response.content[:300]
    body = response.getvalue() if hasattr(response, "getvalue") else response.content
    return json.loads(body)


def test_the_default_fits_the_confirmatory_model_and_it_backs_the_claims(
    rated_test,
    admin_client,
):
    data = analysis_json(admin_client, rated_test)
    model = data["mixed_model"]
    assert "(1|listener:condition)" in model["formula"]
    assert model["inference"] == "t tests with Satterthwaite degrees of freedom"
    (claim,) = data["claims"]  # the two systems under test
    assert {claim["a"], claim["b"]} == {"Quokka-Voice", "Zephyr-TTS"}
    assert claim["basis"] == CONFIRMATORY
    (contrast,) = model["comparisons"]
    assert claim["difference"] == contrast["estimate"] and claim["p_holm"] == contrast["p_holm"]
    quick = analysis_json(admin_client, rated_test, mixed="intercepts")
    assert "listener:condition" not in quick["mixed_model"]["formula"]
    assert [c["basis"] for c in quick["claims"]] == [LISTENER_LEVEL]
    report = admin_client.get(f"/mushra/tests/{rated_test.pk}/results/report.html")
    html = report.getvalue().decode() if hasattr(report, "getvalue") else report.content.decode()
    assert 'id="claims"' in html and CONFIRMATORY in html


def test_an_unknown_model_is_a_message_not_an_error(rated_test, admin_client):
    response = admin_client.get(
        f"/mushra/tests/{rated_test.pk}/results/analysis.json", {"mixed": "cubic"}, follow=True
    )
    assert response.status_code == 200
    assert "Mixed model: unknown mixed model &#x27;cubic&#x27;" in response.content.decode()


def test_a_test_the_confirmatory_model_cannot_fit_still_gets_its_results(
    rated_test,
):
    """Asked for by name (the command line) the model's failure fails the analysis; as the
    platform's default it is left out and the claims fall to the listener-level tests."""
    ratings = ratings_frame(rated_test)
    one_system = ratings[ratings["condition"] != "Quokka-Voice"]
    spec = results.listening_test_spec(
        rated_test, ReportOptions()
    )  # imported whole: pytest collects test_*
    assert spec.mixed == "full" and spec.model_optional
    with pytest.raises(AnalysisError, match="two conditions under test"):
        analyze(one_system, replace(spec, model_optional=False))
    data = analyze(one_system, spec).to_dict()
    assert data["mixed_model"] is None and data["conditions"]
