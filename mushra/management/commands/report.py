"""``manage.py report TEST_SLUG --out DIR``: the full report of a listening test, as files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mushra.analysis import AnalysisError
from mushra.analysis.analyze import MIXED_MODELS
from mushra.analysis.bootstrap import N_BOOT
from mushra.analysis.cli import worded
from mushra.analysis.options import parse_names
from mushra.models import ListeningTest
from mushra.reports import FORMATS
from mushra.results import ReportOptions, listening_test_report


class Command(BaseCommand):
    help = (
        "Analyse a listening test's ratings (BS.1534-3 screening, descriptives, Wilcoxon with "
        "Holm, Friedman, mixed model, gap closure) and write HTML, PDF, CSV, JSON and LaTeX."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("test", metavar="TEST_SLUG")
        parser.add_argument("--out", type=Path, required=True, help="folder for the files")
        parser.add_argument("--compare", action="append", default=[], metavar="A:B")
        parser.add_argument(
            "--by",
            action="append",
            default=[],
            metavar="COLUMN",
            help="break down by a strata column of the test: a questionnaire answer, "
            "utterance_language/style/speaker or condition_<key> (e.g. condition_style)",
        )
        parser.add_argument(
            "--gap",
            action="append",
            default=[],
            metavar="NEW:BASE:TOP",
            help="TOP is any condition: the hidden reference (recordings) or e.g. copy-synthesis",
        )
        parser.add_argument("--no-screening", action="store_true")
        parser.add_argument(
            "--exclude-fast",
            action="store_true",
            help="also exclude listeners who rated faster than the audio on more than 15%% of "
            "their trials (mushra.analysis.timing)",
        )
        parser.add_argument("--bootstrap", type=int, default=N_BOOT, metavar="N")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--mixed-model", choices=MIXED_MODELS, default="full")
        parser.add_argument(
            "--format", action="append", default=[], choices=FORMATS, help="default: all"
        )

    def handle(self, *args, test, out, **opts) -> None:
        found = ListeningTest.objects.filter(slug=test).first()
        if found is None:
            raise CommandError(f"no listening test with slug '{test}'", returncode=2)
        try:
            if opts["bootstrap"] < 1:
                raise AnalysisError("at least 1 bootstrap resample is needed", option="bootstrap")
            options = ReportOptions(
                gaps=tuple(parse_names(v, 3, "gap") for v in opts["gap"]),
                compare=tuple(parse_names(v, 2, "compare") for v in opts["compare"]),
                by=tuple(opts["by"]),
                screening=not opts["no_screening"],
                exclude_fast=opts["exclude_fast"],
                n_boot=opts["bootstrap"],
                seed=opts["seed"],
                mixed=opts["mixed_model"],
                formats=tuple(opts["format"]) or FORMATS,
            )
            self.stdout.write(f"Analysing '{found.name}' …")
            written = listening_test_report(found, out, options)
        except AnalysisError as exc:
            # the flags are the analysis CLI's, so its wording names them
            raise CommandError(worded(exc), returncode=2) from exc
        except OSError as exc:
            message = f"cannot write into {out}: {exc.strerror or exc}"
            raise CommandError(message, returncode=2) from exc
        for path in written.values():
            self.stdout.write(f"  wrote {path}")
        self.stdout.write(self.style.SUCCESS(f"{len(written)} files in {out}"))
