"""Write codec-mushra's screened ratings here for make_reference.R (not committed: the data
set lives in ../shared/datasets under its own licence)."""

from mushra.analysis import screen, tidy
from tests.mushra.analysis.lmertest.designs import HERE
from tests.support.codec_mushra import REFERENCE, codec_tidy


def main() -> None:
    kept = screen(tidy(codec_tidy("ratings_formated.csv")), reference=REFERENCE).kept
    kept[["listener", "item", "condition", "score"]].to_csv(HERE / "codec_mushra.csv", index=False)


if __name__ == "__main__":
    main()
