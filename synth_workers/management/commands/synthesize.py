import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from evalsite.errors import InputError
from synth_workers.job_values import number_or_text
from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.services.synthesis import job_create


def parse_pairs(values: list[str], what: str, *, lists: bool) -> dict:
    """'style=dj,news' → {"style": ["dj", "news"]}; 'length_scale=1.2' → {"length_scale": 1.2}."""
    out: dict = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise CommandError(f"--{what} {value!r}: expected NAME=VALUE", returncode=2)
        items = [number_or_text(v) for v in rest.split(",")]
        out[name] = items if lists else items[0]
    return out


class Command(BaseCommand):
    help = "Render every utterance of a corpus with a checkpoint system, under a condition grid."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--system", required=True)
        parser.add_argument("--corpus", required=True)
        parser.add_argument("--grid", action="append", default=[], help="e.g. style=dj,news")
        parser.add_argument("--control", action="append", default=[], help="e.g. length_scale=1.2")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--no-prosody-reference",
            action="store_true",
            help="ignore the utterances' prosody references (an untransferred baseline)",
        )
        parser.add_argument("--no-wait", action="store_true", help="queue the job and return")

    def handle(self, *args, system, corpus, grid, control, seed, no_wait, **options) -> None:
        use_reference = not options["no_prosody_reference"]
        found_system = System.objects.filter(name=system).first()
        found_corpus = Corpus.objects.filter(name=corpus).first()
        if found_system is None or found_corpus is None:
            raise CommandError(
                f"no {'system' if found_system is None else 'corpus'} named "
                f"'{system if found_system is None else corpus}'",
                returncode=2,
            )
        try:
            job = job_create(
                system=found_system,
                corpus=found_corpus,
                grid=parse_pairs(grid, "grid", lists=True),
                controls=parse_pairs(control, "control", lists=False),
                seed=seed,
                use_prosody_reference=use_reference,
            )
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"Job {job.pk}: {job.total} item(s) queued.")
        if not no_wait:
            self.follow(job)

    def follow(self, job: SynthesisJob) -> None:
        """A progress bar until the job is done; Ctrl-C stops watching, not the job."""
        with tqdm(total=job.total, desc="Synthesizing", unit="item", file=self.stderr._out) as bar:
            while job.status not in (SynthesisJob.Status.DONE, SynthesisJob.Status.CANCELLED):
                time.sleep(0.5)
                job.refresh_from_db()
                bar.update(job.done + job.failed - bar.n)
                bar.set_postfix(failed=job.failed)
        for item in job.items.filter(status="failed").select_related("utterance"):
            self.stdout.write(f"failed: {item.utterance.key} {item.condition}: {item.error}")
        self.stdout.write(
            self.style.SUCCESS(f"Job {job.pk} {job.status}: {job.done} done, {job.failed} failed.")
        )
