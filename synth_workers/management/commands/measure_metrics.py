import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from evalsite.errors import InputError
from synth_workers.metric_catalog import chosen_metrics
from synth_workers.models import Corpus, Stimulus
from synth_workers.selectors import (
    METRIC_TABLE,
    corpus_metric_means,
    corpus_metrics_progress,
    corpus_stimuli,
)
from synth_workers.services.metrics import corpus_metrics_request, stimulus_measure


class Command(BaseCommand):
    help = (
        "Measure the objective metrics of every ready stimulus of a corpus (stored per stimulus "
        "with each metric's version and model hash; what is stored already is not measured "
        "again), then print each system's means."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("corpus", help="the corpus' name")
        parser.add_argument(
            "--metric", action="append", default=[], help="only this metric (repeatable)"
        )
        parser.add_argument(
            "--queue", action="store_true", help="measure on the `cpu` workers and follow them"
        )

    def handle(self, *args, corpus, metric, queue, **options) -> None:
        found = Corpus.objects.filter(name=corpus).first()
        if found is None:
            raise CommandError(f"no corpus named '{corpus}'", returncode=2)
        try:
            chosen_metrics(metric)  # unknown names or a missing package: one line, exit 2
            if queue:
                queued = corpus_metrics_request(corpus=found, names=metric or None)
                self.stdout.write(f"{queued} stimulus(es) queued for measurement.")
                self.follow(found, metric or None)
            else:
                self.measure_here(found, metric or None)
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.print_table(found)

    def measure_here(self, corpus: Corpus, names: list[str] | None) -> None:
        ready = corpus_stimuli(corpus).filter(status=Stimulus.Status.READY)
        ids = list(ready.order_by("pk").values_list("pk", flat=True))
        with tqdm(total=len(ids), desc="Measuring", unit="stimulus", file=self.stderr._out) as bar:
            for stimulus_id in ids:
                stimulus_measure(stimulus_id=stimulus_id, names=names)
                bar.update(1)

    def follow(self, corpus: Corpus, names: list[str] | None) -> None:
        """A bar of measured stimuli until all are; Ctrl-C stops watching, not the workers."""
        progress = corpus_metrics_progress(corpus, names)
        with tqdm(
            total=progress["ready"], desc="Measuring", unit="stimulus", file=self.stderr._out
        ) as bar:
            while True:
                bar.update(progress["measured"] - bar.n)
                if progress["measured"] >= progress["ready"]:
                    break
                time.sleep(0.5)
                progress = corpus_metrics_progress(corpus, names)

    def print_table(self, corpus: Corpus) -> None:
        rows = corpus_metric_means(corpus)
        headings = [h for _, _, h in METRIC_TABLE]
        width = max([len("system"), *(len(r["system"]) for r in rows)])
        self.stdout.write("  ".join(["system".ljust(width), *headings]))
        for row in rows:
            cells = [_cell(row[h]).rjust(len(h)) for h in headings]
            self.stdout.write("  ".join([row["system"].ljust(width), *cells]))


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
