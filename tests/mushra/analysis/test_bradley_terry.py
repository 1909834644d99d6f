"""Bradley–Terry: the MLE against a published worked example and a logistic regression, its
intervals against planted strengths, ties as half wins, and the cases without an MLE."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mushra.analysis.types.bradley_terry import bradley_terry, fit, information
from mushra.analysis.types.preference import win_counts

# Wikipedia, "Bradley–Terry model", worked example of the iterative procedure: four teams,
# wins[i, j] = games i won against j; the converged strengths, scaled to geometric mean 1, are
# p = (0.640, 1.043, 0.660, 2.270).
WIKIPEDIA_WINS = np.array([[0, 2, 0, 1], [3, 0, 5, 0], [0, 3, 0, 1], [4, 0, 3, 0]], dtype=float)
WIKIPEDIA_P = [0.640, 1.043, 0.660, 2.270]


def by_name(result: dict) -> dict:
    return {row["condition"]: row for row in result["conditions"]}


def test_bradley_terry_mle_equals_the_wikipedia_worked_example():
    counts = WIKIPEDIA_WINS + WIKIPEDIA_WINS.T
    result = by_name(bradley_terry(list("ABCD"), WIKIPEDIA_WINS, counts))
    assert [round(result[n]["strength"], 3) for n in "ABCD"] == WIKIPEDIA_P


def test_bradley_terry_with_two_conditions_is_the_log_odds():
    wins = np.array([[0, 7.0], [3.0, 0]])
    theta = fit(wins, wins + wins.T)
    assert theta[0] - theta[1] == pytest.approx(np.log(7 / 3))
    assert theta.sum() == pytest.approx(0, abs=1e-12)


def test_bradley_terry_equals_a_logistic_regression_and_its_standard_errors():
    # Bradley–Terry is a logit model without intercept on x_i − x_j; with the last condition
    # as the baseline its coefficients are θ_i − θ_last and their SEs are those of the
    # differences, which the sum-to-zero covariance must reproduce.
    rng = np.random.default_rng(1)
    planted = np.array([0.8, 0.1, -0.3, -0.6])
    rows, y = [], []
    for i in range(4):
        for j in range(i + 1, 4):
            for _ in range(40):
                x = np.zeros(4)
                x[i], x[j] = 1, -1
                rows.append(x[:3])
                y.append(rng.random() < 1 / (1 + np.exp(planted[j] - planted[i])))
    glm = sm.GLM(np.array(y, float), np.array(rows), family=sm.families.Binomial()).fit()
    wins = np.zeros((4, 4))
    for x, won in zip(rows, y, strict=True):
        i = int(np.flatnonzero(x == 1)[0])
        j = int(np.flatnonzero(x == -1)[0]) if (x == -1).any() else 3
        wins[(i, j) if won else (j, i)] += 1
    theta = fit(wins, wins + wins.T)
    assert theta[:3] - theta[3] == pytest.approx(glm.params, abs=1e-8)
    cov = np.linalg.pinv(information(theta, wins + wins.T))
    se = [np.sqrt(cov[i, i] + cov[3, 3] - 2 * cov[i, 3]) for i in range(3)]
    assert se == pytest.approx(glm.bse, rel=1e-6)


def simulate(planted: np.ndarray, per_pair: int, rng) -> tuple[np.ndarray, np.ndarray]:
    k = len(planted)
    wins = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            won = rng.binomial(per_pair, 1 / (1 + np.exp(planted[j] - planted[i])))
            wins[i, j], wins[j, i] = won, per_pair - won
    return wins, wins + wins.T


def test_bradley_terry_recovers_planted_strengths_within_its_intervals():
    planted = np.array([-1.0, -0.3, 0.0, 0.5, 0.8])
    planted -= planted.mean()
    wins, counts = simulate(planted, 200, np.random.default_rng(7))
    names = ["s0", "s1", "s2", "s3", "s4"]
    result = by_name(bradley_terry(names, wins, counts))
    for name, truth in zip(names, planted, strict=True):
        low, high = result[name]["ci95"]
        assert low < truth < high
        assert abs(result[name]["log_strength"] - truth) < 0.15
    assert [r["condition"] for r in bradley_terry(names, wins, counts)["conditions"]] == names[::-1]


def test_bradley_terry_intervals_cover_planted_strengths_about_95_percent():
    planted = np.array([-0.7, -0.2, 0.3, 0.6])
    planted -= planted.mean()
    rng = np.random.default_rng(11)
    hits = []
    for _ in range(300):
        wins, counts = simulate(planted, 60, rng)
        rows = by_name(bradley_terry(list("abcd"), wins, counts))
        for name, truth in zip("abcd", planted, strict=True):
            hits.append(rows[name]["ci95"][0] < truth < rows[name]["ci95"][1])
    assert 0.92 < np.mean(hits) < 0.98


def test_no_preference_counts_half_a_win_for_each():
    df = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "preferred": ["", "x", "z"]})
    wins, counts = win_counts(df, ["x", "y", "z"])
    assert wins.tolist() == [[0, 0.5, 1], [0.5, 0, 0], [0, 1, 0]]
    assert counts.tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]


def test_a_condition_that_never_lost_has_no_finite_strength():
    wins = np.array([[0, 3, 2], [0, 0, 1], [0, 1, 0]], dtype=float)
    result = bradley_terry(["top", "b", "c"], wins, wins + wins.T)
    assert result["conditions"] is None
    assert result["undefined"].startswith("top never lost a judgement")


def test_conditions_never_compared_have_no_common_scale():
    wins = np.zeros((4, 4))
    wins[0, 1] = wins[1, 0] = wins[2, 3] = wins[3, 2] = 2
    result = bradley_terry(list("abcd"), wins, wins + wins.T)
    assert "never compared" in result["undefined"]


def test_ranking_is_by_the_lower_bound_of_the_interval():
    # "many" wins 60 % of 500 judgements, "few" 2 of 3: few has the larger estimate but the
    # far wider interval, so a firm 60 % ranks first.
    wins = np.zeros((3, 3))
    wins[0, 2], wins[2, 0] = 300, 200
    wins[1, 2], wins[2, 1] = 2, 1
    wins[0, 1], wins[1, 0] = 1, 1
    result = bradley_terry(["many", "few", "base"], wins, wins + wins.T)
    rows = by_name(result)
    assert rows["few"]["log_strength"] > rows["many"]["log_strength"]
    assert rows["many"]["rank"] == 1 and rows["few"]["rank"] > rows["many"]["rank"]
    assert rows["many"]["ci95"][0] > rows["few"]["ci95"][0]
