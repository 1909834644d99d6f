"""Where things are: the repository and the shared data sets beside it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
