"""analyze() reports its stages in order, so a worker's progress bar can follow it."""

from mushra.analysis import Spec, analyze
from mushra.analysis.analyze import STAGES
from mushra.analysis.synthetic import mushra_ratings


def test_stages_come_in_order_and_strata_only_with_a_breakdown():
    df = mushra_ratings(6, 4, 4, seed=2)
    heard: list[str] = []
    analyze(df, Spec(n_boot=20), progress=heard.append)
    assert heard == [s for s in STAGES if s != "strata"]
    df["half"] = (df["listener"].str[1:].astype(int) % 2).map({0: "a", 1: "b"})
    heard.clear()
    analyze(df, Spec(n_boot=20, by=("half",)), progress=heard.append)
    assert heard == list(STAGES)
