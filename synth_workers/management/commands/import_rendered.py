from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from synth_workers.management.importing import report_lines, run_import
from synth_workers.models import Corpus
from synth_workers.services import rendered_import


class Command(BaseCommand):
    help = (
        "Import a system's pre-rendered audio for a corpus from a folder or zip whose file "
        "names are utterance keys (or follow --pattern, e.g. '{key}/encodec_6.wav')."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("corpus", help="corpus name")
        parser.add_argument("system", help="name of the new system")
        parser.add_argument("audio", type=Path, help="folder or .zip")
        parser.add_argument("--pattern", default="{key}", help="path of each file; {key} = key")
        parser.add_argument("--description", default="")
        parser.add_argument("--skip-bad", action="store_true", help="import the rest, list the bad")

    def handle(
        self, *args, corpus, system, audio: Path, pattern, description, skip_bad, **options
    ) -> None:
        found = Corpus.objects.filter(name=corpus).first()
        if found is None:
            raise CommandError(f"no corpus named '{corpus}'", returncode=2)
        if not audio.exists():
            raise CommandError(f"{audio}: no such folder or file", returncode=2)
        report = run_import(
            self,
            rendered_import,
            corpus=found,
            system_name=system,
            audio_path=audio,
            pattern=pattern,
            description=description,
            skip_bad=skip_bad,
        )
        report_lines(self, report, f"system '{system}': {report.created} stimulus file(s)")
