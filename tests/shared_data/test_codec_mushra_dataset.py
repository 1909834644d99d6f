"""The real MUSHRA data set in ../shared is present and readable with the audio stack we ship.

Later issues import it as a corpus and analyse its ratings; this guards the path and the
soundfile/libsndfile install they rely on.
"""

import csv
import json

import soundfile

from tests.support.paths import SHARED_DATASETS
from tests.support.services import need_shared_data

DATASET = SHARED_DATASETS / "codec-mushra"


def test_codec_mushra_audio_reads_at_24_khz_with_a_reference_per_item():
    need_shared_data()
    items = sorted(p for p in (DATASET / "audio").iterdir() if p.is_dir())
    assert len(items) == 16
    for item in items:
        info = soundfile.info(item / "ref.wav")
        # Stored as two identical channels; the stimulus pipeline (issue 3) downmixes.
        assert (info.samplerate, info.channels) == (24000, 2), item
        assert info.frames > info.samplerate  # more than a second of speech


def test_codec_mushra_ratings_have_parallel_lists_of_scores_and_listeners():
    need_shared_data()
    with open(DATASET / "ratings_formated.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "no ratings"
    for row in rows:
        scores = json.loads(row["ratings"])
        assert len(scores) == len(json.loads(row["participant_ids"]))
        assert all(0 <= score <= 100 for score in scores)
