"""``python -m mushra.analysis RATINGS.csv [options]``: the analysis from a terminal.

Bad input (a missing column, a score out of range, an unknown condition in an option, a pair
nobody rated) ends with exit code 2 and one line naming the file and the problem, never a
traceback: the person reading it uploaded a file, they did not write this program. The library
words its errors for any reader and names the option at fault (``AnalysisError.option``); this
command puts that option's flag (:data:`FLAGS`) before the message.

The test types beside MUSHRA (ACR, SMOS, CMOS, A/B, ABX: mushra.analysis.types) come from
``--test-type``, a ``test_type`` column or the file's columns; they print json or text (the
html, pdf and csv reports are MUSHRA's so far), and the MUSHRA-only options are refused for them
rather than silently ignored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from mushra.analysis.analyze import MIXED_MODELS, Result, Spec
from mushra.analysis.bootstrap import N_BOOT
from mushra.analysis.data import AnalysisError, json_ready, read_table
from mushra.analysis.formats import csv_table, text
from mushra.analysis.options import parse_names
from mushra.analysis.planning import PlanOptions, plan_pilot
from mushra.analysis.power import N_SIMULATIONS, plan_text
from mushra.analysis.screening import attention_outcomes
from mushra.analysis.sequential import sequential_text
from mushra.analysis.types import (
    MUSHRA_TYPES,
    TEST_TYPES,
    Options,
    analyze_any,
    resolve_test_type,
    typed_text,
)
from mushra.analysis.types.dispatch import SCREENED_TYPES

FORMATS = ("json", "text", "csv", "html", "pdf")
# The other test types' formats: their report and its PDF (mushra.reports.typed); no csv table.
TYPED_FORMATS = ("json", "text", "html", "pdf")
# The library's options (mushra.analysis.options.OPTIONS) → this command's flags.
FLAGS = {
    "reference": "--reference", "mid_anchor": "--mid-anchor", "low_anchor": "--low-anchor",
    "compare": "--compare", "gap": "--gap", "baseline": "--baseline", "by": "--by",
    "mixed_model": "--mixed-model", "screening": "--no-screening", "attention": "--attention",
    "exclude_fast": "--exclude-fast", "bootstrap": "--bootstrap", "seed": "--seed",
    "items_random": "--items-random", "test_type": "--test-type", "difference": "--power",
    "target_power": "--target-power", "alpha": "--alpha", "simulations": "--simulations",
    "listeners": "--listeners", "items": "--items", "jobs": "--jobs",
    "precision": "--precision", "format": "--format", "out": "--out",
}  # fmt: skip
# Options of the MUSHRA analysis alone: refused for the other test types (module docstring).
MUSHRA_ONLY = ("reference", "mid_anchor", "low_anchor", "gap", "by", "attention", "exclude_fast",
               "mixed_model", "baseline", "bootstrap", "seed", "items_random", "difference",
               "precision", "listeners", "items")  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse would add the usage block)
        self.exit(2, f"{self.prog}: error: {message}\n")


def worded(exc: AnalysisError) -> str:
    """The error as this command's user reads it: the flag of the option at fault, if any,
    then the library's message."""
    flag = FLAGS.get(exc.option)
    return f"{flag}: {exc}" if flag else str(exc)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m mushra.analysis",
        description="Screen listeners (ITU-R BS.1534-3), describe, test and report MUSHRA ratings; "
        "also ACR, SMOS, CMOS, A/B and ABX tests (--test-type).",
    )
    p.add_argument(
        "ratings",
        help="tidy CSV (MUSHRA: listener,item,condition,score; other types: see --test-type) or "
        "a webMUSHRA mushra.csv, paired_comparison.csv, lss.csv or lms.csv",
    )
    p.add_argument(
        "--test-type",
        choices=TEST_TYPES,
        help="default: the file's test_type column, else recognised by its columns (a,b,x,answer: "
        "abx; a,b,preferred: ab; a,b,score: cmos; otherwise mushra)",
    )
    p.add_argument("--reference", help="hidden reference condition (default: 'reference')")
    p.add_argument("--mid-anchor", help="mid anchor (7 kHz); enables the second screening rule")
    p.add_argument("--low-anchor", help="low anchor (3.5 kHz)")
    p.add_argument("--compare", action="append", default=[], metavar="A:B", help="repeatable")
    p.add_argument("--gap", action="append", default=[], metavar="NEW:BASE:TOP", help="repeatable")
    p.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="COLUMN",
        help="break the results down by this extra column (repeatable); a row left blank in a "
        "column that other rows of its (listener, item) fill, e.g. the reference in "
        "condition_style, counts in every stratum",
    )
    p.add_argument(
        "--no-screening",
        action="store_true",
        help="keep every listener (MUSHRA: BS.1534-3 rules; ACR/SMOS: P.808 rules)",
    )
    p.add_argument(
        "--attention",
        type=Path,
        metavar="CSV",
        help="attention-check outcomes, one row per check (columns listener,passed): also "
        "exclude listeners who failed more than 15%% of their checks",
    )
    p.add_argument(
        "--exclude-fast",
        action="store_true",
        help="also exclude listeners who rated faster than the audio on more than 15%% of their "
        "trials (needs the columns trial_seconds and audio_seconds of the platform's ratings.csv)",
    )
    p.add_argument(
        "--mixed-model",
        choices=MIXED_MODELS,
        default="intercepts",
        help="intercepts: (1|listener)+(1|item); full: adds listener:condition and "
        "item:condition on the conditions under test (confirmatory); none: no model",
    )
    p.add_argument(
        "--baseline",
        metavar="NAME",
        help="the mixed model's baseline: each effect is a condition's difference from it "
        "(default: the hidden reference in the intercepts model, the first condition under "
        "test by name in the full model)",
    )
    p.add_argument("--bootstrap", type=int, default=N_BOOT, metavar="N", help="resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument(
        "--items-random",
        action="store_true",
        help="the items are a sample too: bootstrap listeners and items independently (two-way; "
        "wider, mildly conservative intervals) instead of listeners only",
    )
    p.add_argument(
        "--format", choices=FORMATS, help="default: json, or text with --power (a table)"
    )
    p.add_argument("--title", help="report title (html/pdf; default: the file name)")
    p.add_argument("--out", type=Path, help="write here instead of standard output")
    add_planning(p)
    return p


def add_planning(p: argparse.ArgumentParser) -> None:
    """--power and its companions (mushra.analysis.power): planning from this file as a pilot."""
    g = p.add_argument_group("planning (the file is a pilot; see mushra.analysis.power)")
    g.add_argument("--power", type=float, metavar="DIFF", help="difference to detect, in points")
    g.add_argument("--target-power", type=float, default=0.8, metavar="P", help="default 0.8")
    g.add_argument("--alpha", type=float, default=0.05, help="default 0.05")
    g.add_argument("--listeners", metavar="N,N,...", help="listener counts (default: 4 around "
                   "the analytic answer)")  # fmt: skip
    g.add_argument("--items", metavar="N,N,...", help="item counts (default: the pilot's)")
    g.add_argument("--simulations", type=int, default=N_SIMULATIONS, metavar="N",
                   help=f"simulated experiments per point (default {N_SIMULATIONS})")  # fmt: skip
    g.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    g.add_argument("--precision", type=float, metavar="HALF", help="target 95%% CI half-width of "
                   "the sequential view (default: planned from DIFF)")  # fmt: skip


def parse_counts(value: str | None, option: str) -> tuple[int, ...]:
    """Listener or item counts (``option`` "listeners" or "items") written 10,20,40."""
    if not value:
        return ()
    try:
        return tuple(int(v) for v in value.split(","))
    except ValueError:
        raise AnalysisError(
            f"the {option[:-1]} counts must be whole numbers like 10,20,40, not {value!r}",
            option=option,
        ) from None


def plan_options(args: argparse.Namespace) -> PlanOptions | None:
    """The planning options, None without --power; bad values are refused by power_plan."""
    if args.power is None:
        return None
    if not args.power > 0:  # also NaN
        raise AnalysisError(
            f"the difference to detect must be above 0 points (got {args.power})",
            option="difference",
        )
    if args.format not in (None, "json", "text"):
        raise AnalysisError(
            f"a plan is printed as text or json, not {args.format}", option="format"
        )
    if args.jobs < 1:
        raise AnalysisError("at least 1 worker process is needed", option="jobs")
    if args.precision is not None and not args.precision > 0:
        raise AnalysisError(
            f"the target half-width must be above 0 points (got {args.precision})",
            option="precision",
        )
    return PlanOptions(
        difference=args.power,
        alpha=args.alpha,
        target=args.target_power,
        items=parse_counts(args.items, "items"),
        listeners=parse_counts(args.listeners, "listeners"),
        simulations=args.simulations,
        seed=args.seed,
        jobs=args.jobs,
        half_width=args.precision,
    )


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\rsimulating {done}/{total}" + ("\n" if done == total else ""))


def render_plan(
    result: Result, options: PlanOptions, fmt: str, output: str, test_type: str = "mushra"
) -> str:
    """The analysis' output with the plan: a "power" key in JSON, tables after the text."""
    plan = plan_pilot(result, options, progress=_progress)
    if fmt == "json":
        data = {"test_type": test_type, **result.to_dict(), "power": json_ready(plan)}
        return json.dumps(data, indent=2) + "\n"
    pilot = plan["pilot"]
    lines = [
        output,
        f"Pilot: {pilot['listeners']} listeners, {pilot['items']} items, conditions "
        f"{', '.join(pilot['conditions'])}; variance components "
        + ", ".join(f"{k} {v:.2f}" for k, v in plan["components"].items()),
        plan_text(plan),
    ]
    if plan["sequential"]:
        lines.append(sequential_text(plan["sequential"]))
    return "\n".join(lines)


def spec_from(args: argparse.Namespace) -> Spec:
    if args.bootstrap < 1:
        raise AnalysisError("at least 1 bootstrap resample is needed", option="bootstrap")
    return Spec(
        reference=args.reference,
        mid_anchor=args.mid_anchor,
        low_anchor=args.low_anchor,
        compare=tuple(parse_names(v, 2, "compare") for v in args.compare),
        gaps=tuple(parse_names(v, 3, "gap") for v in args.gap),
        by=tuple(args.by),
        screening=not args.no_screening,
        exclude_fast=args.exclude_fast,
        n_boot=args.bootstrap,
        seed=args.seed,
        mixed=args.mixed_model,
        baseline=args.baseline,
        items_random=args.items_random,
    )


def read_attention(path: Path) -> pd.DataFrame:
    """The attention-check outcomes CSV (listener,passed), checked by the analysis."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AnalysisError(f"cannot read {path.name}: {first}", option="attention") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return attention_outcomes(raw)


def render(
    result: Result, fmt: str, *, title: str, source: str, test_type: str = "mushra"
) -> str | bytes:
    data = result.to_dict()
    if fmt == "json":
        return json.dumps({"test_type": test_type, **data}, indent=2) + "\n"
    if fmt == "text":
        return text(data)
    if fmt == "csv":
        return csv_table(data)
    from mushra.reports import ReportMeta, render_html, render_pdf  # matplotlib only when asked

    meta = ReportMeta.for_spec(result.spec, title=title, source=source)
    html = render_html(data, result.rated, meta)
    return html if fmt == "html" else render_pdf(html)


def _write(output: str | bytes, out: Path | None) -> None:
    if out is None:
        if isinstance(output, bytes):
            if sys.stdout.isatty():
                raise AnalysisError("a PDF is binary: name a file to write it to", option="out")
            sys.stdout.buffer.write(output)
        else:
            sys.stdout.write(output)
        return
    try:
        if isinstance(output, bytes):
            out.write_bytes(output)
        else:
            out.write_text(output, encoding="utf-8")
    except OSError as exc:
        raise AnalysisError(f"cannot write {out}: {exc.strerror or exc}", option="out") from exc


def mushra_output(args: argparse.Namespace, raw: pd.DataFrame, test_type: str) -> str | bytes:
    """The MUSHRA analysis (with or without hidden reference) in the asked format."""
    name = Path(args.ratings).name
    spec = spec_from(args)
    planning = plan_options(args)
    fmt = args.format or ("text" if planning else "json")
    attention = read_attention(args.attention) if args.attention else None
    typed = analyze_any(raw, Options(test_type=test_type, spec=spec), attention=attention)
    result = typed.mushra
    output = render(result, fmt, title=args.title or name, source=name, test_type=test_type)
    if planning:
        output = render_plan(result, planning, fmt, output, test_type)
    return output


def refuse_mushra_options(args: argparse.Namespace, test_type: str) -> None:
    """The MUSHRA-only options, and --no-screening where there is nothing to screen, are
    errors for the other test types: ignoring one would let a reader believe it was applied."""
    defaults = parser()
    for option in MUSHRA_ONLY:
        dest = FLAGS[option].removeprefix("--").replace("-", "_")
        if getattr(args, dest) != defaults.get_default(dest):
            raise AnalysisError(
                f"this option applies to MUSHRA tests, not to test type {test_type}", option=option
            )
    if args.no_screening and test_type not in SCREENED_TYPES:
        raise AnalysisError(f"test type {test_type} has no screening rules", option="screening")
    if (args.format or "json") not in TYPED_FORMATS:
        raise AnalysisError(
            f"{args.format} is not available for test type {test_type} yet "
            "(use json, text, html or pdf)",
            option="format",
        )


def typed_output(args: argparse.Namespace, raw: pd.DataFrame, test_type: str) -> str | bytes:
    """An ACR, SMOS, CMOS, A/B or ABX analysis as json, text, or its report (html, pdf)."""
    refuse_mushra_options(args, test_type)
    options = Options(
        test_type=test_type,
        compare=tuple(parse_names(v, 2, "compare") for v in args.compare),
        screening=not args.no_screening,
    )
    data = analyze_any(raw, options).to_dict()
    fmt = args.format or "json"
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "text":
        return typed_text(data)
    from mushra.reports.typed import typed_report_html, typed_report_pdf  # matplotlib: on use

    name = Path(args.ratings).name
    html = typed_report_html(data, title=args.title or name, source=name)
    return html if fmt == "html" else typed_report_pdf(html)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    name = Path(args.ratings).name
    try:
        raw = read_table(args.ratings)
        test_type = resolve_test_type(raw, args.test_type)
        if test_type in MUSHRA_TYPES:
            output = mushra_output(args, raw, test_type)
        else:
            output = typed_output(args, raw, test_type)
        _write(output, args.out)
    except AnalysisError as exc:
        print(f"{name}: {worded(exc)}", file=sys.stderr)
        return 2
    return 0
