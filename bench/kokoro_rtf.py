"""Kokoro-82M (int8 ONNX, the built-in kokoro system) on the CPU: seconds of audio per second of
compute, for English read by a Japanese voice pack (cross-lingual) and for Japanese.

    .venv/bin/python bench/kokoro_rtf.py [--n 10] [--voice jf_alpha] [--threads N]

Each sentence is one synthesize() call, as a worker makes it (G2P + model). One warm-up call per
language first (it loads that language's G2P); model loading is timed apart. --threads sets
EVALSITE_SYNTH_THREADS (onnxruntime intra-op threads; default: all cores). Prints a table and,
last, the overall ratio audio seconds / compute seconds (above 1 is faster than real time).
"""

import argparse
import os
import time

from synth_workers.harvard import HARVARD_SENTENCES

JAPANESE = [
    "今日はとても良い天気ですね。",
    "駅までの道を教えてください。",
    "この本は図書館で借りました。",
    "明日の会議は午後三時から始まります。",
    "彼女は毎朝公園を散歩しています。",
    "新しいパソコンを買うつもりです。",
    "窓を開けてもいいですか。",
    "昨日の夜は雨が強く降りました。",
    "私は日本語を勉強しています。",
    "冷たい水を一杯ください。",
    "子供たちが庭で遊んでいます。",
    "この料理はとても美味しいです。",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="sentences per language")
    parser.add_argument("--voice", default="jf_alpha", help="a built-in voice pack")
    parser.add_argument("--threads", type=int, default=0, help="0: onnxruntime's default")
    args = parser.parse_args()
    if args.threads:
        os.environ["EVALSITE_SYNTH_THREADS"] = str(args.threads)

    from synth_workers.backends import SynthRequest, get_backend

    start = time.perf_counter()
    backend = get_backend("kokoro")()
    backend.load({}, {}, "cpu")
    load = time.perf_counter() - start
    cases = {
        "English (cross-lingual)": ("en-us", HARVARD_SENTENCES),
        "Japanese": ("ja", JAPANESE),
    }
    print(f"kokoro built-in, voice {args.voice}, {args.n} sentences per language, CPU")
    print(f"threads: {os.environ.get('EVALSITE_SYNTH_THREADS', 'default')}; load {load:.2f} s")
    print(f"{'language':<26}{'audio s':>9}{'compute s':>11}{'audio/compute':>15}")
    total_audio = total_compute = 0.0
    for label, (language, texts) in cases.items():
        sentences = [texts[i % len(texts)] for i in range(args.n)]
        warm = SynthRequest(text=sentences[0], language=language, speaker=args.voice)
        backend.synthesize([warm])
        audio = compute = 0.0
        for text in sentences:
            request = SynthRequest(text=text, language=language, speaker=args.voice)
            t0 = time.perf_counter()
            (clip,) = backend.synthesize([request])
            compute += time.perf_counter() - t0
            audio += clip.duration
        print(f"{label:<26}{audio:>9.2f}{compute:>11.2f}{audio / compute:>15.2f}")
        total_audio, total_compute = total_audio + audio, total_compute + compute
    print(f"audio seconds per compute second, both languages: {total_audio / total_compute:.2f}")


if __name__ == "__main__":
    main()
