from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from synth_workers.management.importing import report_lines, run_import
from synth_workers.services import corpus_import


class Command(BaseCommand):
    help = (
        "Import a corpus from a manifest (CSV or JSONL: key, text, language, speaker, style, "
        "prosody_reference, recording) and the folder or zip holding its audio. Natural "
        "recordings become a system of kind 'recording'. Any refusal imports nothing, "
        "unless --skip-bad."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="corpus name")
        parser.add_argument("manifest", type=Path)
        parser.add_argument("--audio", type=Path, help="folder or .zip with the audio files")
        parser.add_argument("--language", default="en", help="default language of the rows")
        parser.add_argument("--skip-bad", action="store_true", help="import the rest, list the bad")

    def handle(self, *args, name, manifest: Path, audio, language, skip_bad, **options) -> None:
        if not manifest.is_file():
            raise CommandError(f"{manifest}: no such file", returncode=2)
        report = run_import(
            self,
            corpus_import,
            name=name,
            manifest_name=manifest.name,
            manifest_data=manifest.read_bytes(),
            audio_path=audio,
            default_language=language,
            skip_bad=skip_bad,
        )
        utterances = report.corpus.utterances.count()
        report_lines(
            self,
            report,
            f"corpus '{name}': {utterances} utterance(s), {report.created} recording(s)",
        )
