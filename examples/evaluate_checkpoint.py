"""Evaluate a freshly trained TTS checkpoint with a MUSHRA listening test, over the HTTP API only.

What a training pipeline runs after training:

1. register the checkpoint (its files are uploaded) and wait until a worker has checked it;
2. render the corpus with it, showing the job's progress;
3. build a MUSHRA test: the new system against a baseline, with the corpus' recordings as the
   hidden reference and the 3.5 and 7 kHz anchors;
4. open the test and print the link to send to listeners.

Later, ``--results TEST_ID`` fetches the analysis (``--wait-ratings N`` first waits until N
listeners have finished) and prints the mean score of each condition; ``--out`` saves the JSON.

Usage (the token comes from the API tokens page, /tokens/)::

    export EVALSITE_TOKEN=...
    python examples/evaluate_checkpoint.py --url http://127.0.0.1:8000 --project 1 \\
        --corpus 3 --baseline "Baseline TTS" --name "my-voice step 200k" \\
        --file model=voice.onnx --file config=voice.onnx.json
    python examples/evaluate_checkpoint.py --url http://127.0.0.1:8000 --results 7 \\
        --wait-ratings 20 --gap "my-voice step 200k:Baseline TTS:Hidden reference" \\
        --out results.json

Exit codes: 0 done, 1 the API refused (its error and problems are printed), 2 bad arguments.
It needs only httpx (``pip install httpx``).
"""

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import httpx

POLL_SECONDS = 2.0
UPLOAD = httpx.Timeout(60, write=None)  # a large checkpoint may take long to upload


class Refused(Exception):
    """The API said no (or never answered): printed, exit code 1."""


def show(line: str) -> None:
    """A progress line, rewritten in place."""
    print(f"\r{line}   ", end="", flush=True)


def answer(response: httpx.Response):
    """The JSON body of a success; otherwise the API's `error` and `problems` as a Refused."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text[:300]}
    request = response.request
    lines = [
        f"{request.method} {request.url.path}: HTTP {response.status_code}: {body.get('error')}"
    ]
    lines += [f"  - {problem}" for problem in body.get("problems") or []]
    raise Refused("\n".join(lines))


def wait(fetch, finished, what: str, timeout: float):
    """Call `fetch` until `finished(result)`; a pipeline must not hang forever on a dead worker."""
    deadline = time.monotonic() + timeout
    while not finished(result := fetch()):
        if time.monotonic() > deadline:
            raise Refused(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    return result


def once(args, step: str) -> dict:
    """An Idempotency-Key derived from the run's arguments: rerun after a timeout, the same
    request gets the first answer back instead of making a second system, job or test."""
    run = f"{args.url}|{args.project}|{args.corpus}|{args.name}|{args.slug}|{step}"
    return {"Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, run))}


def find_baseline(api: httpx.Client, args) -> dict:
    """The baseline by id or by name, checked to be in the project (the test needs it there)."""
    if args.baseline.isdigit():
        found = [answer(api.get(f"systems/{args.baseline}/"))]
    else:
        found, url = [], f"systems/?project={args.project}"
        while url:  # the list is paginated
            page = answer(api.get(url))
            found += [s for s in page["results"] if s["name"] == args.baseline]
            url = page["next"]
    if not found or found[0]["project"] != args.project:
        raise Refused(f"no system '{args.baseline}' in project {args.project}")
    return found[0]


def register(api: httpx.Client, args) -> dict:
    form = {"project": args.project, "name": args.name, "backend": args.backend}
    form["config"] = json.dumps(args.config)
    files = {f"file.{role}": path.open("rb") for role, path in args.file}
    try:
        post = api.post(
            "systems/", data=form, files=files, headers=once(args, "system"), timeout=UPLOAD
        )
    finally:
        for handle in files.values():
            handle.close()
    system = answer(post)
    print(f"registered system {system['id']} '{system['name']}'; a worker is checking it")
    system = wait(
        lambda: answer(api.get(f"systems/{system['id']}/")),
        lambda s: s["status"] != "checking",
        "the check",
        args.timeout,
    )
    if system["status"] != "usable":
        raise Refused(f"the checkpoint was refused: {system['check_error']}")
    return system


def render(api: httpx.Client, args, system: dict) -> None:
    spec = {"system": system["id"], "corpus": args.corpus}  # every utterance, no grid
    job = answer(api.post("jobs/", json=spec, headers=once(args, "job")))

    def progress() -> dict:
        p = answer(api.get(f"jobs/{job['id']}/progress/"))
        eta = f", about {p['eta_seconds']} s left" if p["eta_seconds"] else ""
        show(f"rendering: {p['done']}/{p['total']} done, {p['failed']} failed{eta}")
        return p

    p = wait(progress, lambda p: p["status"] in ("done", "cancelled"), "the job", args.timeout)
    print()
    for failure in p["failures"]:
        print(f"  {failure['utterance']} {failure['condition']}: {failure['error']}")
    if p["status"] != "done" or p["failed"]:
        raise Refused(f"job {job['id']} is {p['status']} with {p['failed']} failed items")

    # Rendered audio is then prepared by a cpu worker (loudness, format); a test opens only on
    # prepared audio, so wait until none of the system's stimuli is pending.
    def pending() -> int:
        query = {"system": system["id"], "status": "pending"}
        n = answer(api.get("stimuli/", params=query))["count"]
        show(f"preparing: {n} stimuli left")
        return n

    wait(pending, lambda n: n == 0, "preparation", args.timeout)
    print()
    failed = answer(api.get("stimuli/", params={"system": system["id"], "status": "failed"}))
    for stimulus in failed["results"]:
        print(f"  {stimulus['utterance']['key']}: {stimulus['error']}")
    if failed["count"]:
        raise Refused(f"{failed['count']} stimuli of system {system['id']} failed preparation")


def build_and_open(api: httpx.Client, args, system: dict, baseline: dict) -> dict:
    spec = {
        "name": f"{system['name']} vs {baseline['name']}",
        "slug": args.slug,
        "corpus": args.corpus,  # its recordings are the hidden reference
        "systems": [{"system": system["id"]}, {"system": baseline["id"]}],
        "anchors": ["low", "mid"],
    }
    test = answer(api.post("tests/", json=spec, headers=once(args, "test")))
    if answer(api.get(f"tests/{test['id']}/"))["status"] != "draft":
        return test  # a rerun: opened the first time

    return answer(api.post(f"tests/{test['id']}/open/"))  # a 400 lists every problem


def results(api: httpx.Client, args, test: int) -> None:
    if args.wait_ratings:

        def progress() -> dict:
            p = answer(api.get(f"tests/{test}/progress/"))
            show(f"listeners finished: {p['sessions_finished']}/{args.wait_ratings}")
            return p

        n = args.wait_ratings
        wait(progress, lambda p: p["sessions_finished"] >= n, "listeners", args.timeout)
        print()
    gap = dict(zip(("new", "base", "top"), args.gap.split(":"), strict=True)) if args.gap else {}
    analysis = answer(api.get(f"tests/{test}/results/analysis.json", params=gap))
    print(f"test {test}: {analysis.get('n_listeners')} listeners")
    for row in analysis["conditions"]:
        mean = "-" if row.get("mean") is None else f"{row['mean']:5.1f}"
        print(f"  {row['condition']:<40} mean {mean}  (n={row.get('n')})")
    for g in analysis.get("gaps") or []:
        pct = g.get("gap_closure_pct")
        print(f"  gap closed by {g.get('new')}: {'-' if pct is None else f'{pct:.1f}'} %")
    if args.out:
        args.out.write_text(json.dumps(analysis, indent=2) + "\n")
        print(f"wrote {args.out}")


def role_and_path(value: str) -> tuple[str, Path]:
    role, _, path = value.partition("=")
    if not role.isidentifier() or not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"'{value}': give ROLE=PATH of an existing file")
    return role, Path(path)


def json_object(value: str) -> dict:
    try:
        config = json.loads(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(config, dict):
        raise argparse.ArgumentTypeError("give a JSON object, e.g. '{\"length_scale\": 1.1}'")
    return config


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--url", required=True, help="the platform, e.g. http://127.0.0.1:8000")
    add("--token", default=os.environ.get("EVALSITE_TOKEN"), help="or env EVALSITE_TOKEN")
    add("--project", type=int, help="project id")
    add("--corpus", type=int, help="corpus id (with natural recordings)")
    add("--baseline", help="system id or name to compare with")
    add("--name", help="name of the new system")
    add("--backend", default="piper")
    add("--file", type=role_and_path, action="append", default=[], metavar="ROLE=PATH")
    add("--config", type=json_object, default={}, help="backend options as a JSON object")
    add("--slug", help="the test's URL name (default: from --name)")
    add("--results", type=int, metavar="TEST_ID", help="fetch a test's results instead")
    add("--wait-ratings", type=int, default=0, metavar="N", help="wait for N finished listeners")
    add("--gap", metavar="NEW:BASE:TOP", help="gap closure between three conditions' labels")
    add("--out", type=Path, help="save the analysis JSON here")
    add("--timeout", type=float, default=3600, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set EVALSITE_TOKEN (make one on the API tokens page)")
    if args.gap and args.gap.count(":") != 2:
        parser.error("--gap needs three condition labels: NEW:BASE:TOP")
    if args.results is None:
        missing = [f"--{k}" for k in ("project", "corpus", "baseline", "name") if not vars(args)[k]]
        if missing:
            parser.error(f"{', '.join(missing)} required (or --results TEST_ID)")
        args.slug = args.slug or re.sub(r"[^a-z0-9]+", "-", args.name.lower()).strip("-")[:100]
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    headers = {"Authorization": f"Token {args.token}"}
    base = args.url.rstrip("/") + "/api/v1/"
    with httpx.Client(base_url=base, headers=headers, timeout=60) as api:
        try:
            test_id = args.results
            if test_id is None:
                corpus = answer(api.get(f"corpora/{args.corpus}/"))  # fail before uploading
                if corpus["project"] != args.project:
                    raise Refused(f"corpus {args.corpus} is not in project {args.project}")
                baseline = find_baseline(api, args)
                system = register(api, args)
                render(api, args, system)
                test = build_and_open(api, args, system, baseline)
                print(f"test {test['id']} is open; send listeners to {test['listener_link']}")
                test_id = test["id"] if args.wait_ratings else None  # or come back later
            if test_id is not None:
                results(api, args, test_id)
        except Refused as refusal:
            print(f"refused: {refusal}", file=sys.stderr)
            return 1
        except httpx.HTTPError as exc:
            print(f"cannot reach {base}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
