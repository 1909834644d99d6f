"""``manage.py import_webmushra CONFIG.yaml AUDIO_DIR --project ID``: a webMUSHRA test as a
draft listening test of the matching type (``mushra.webmushra_config`` says what maps to what)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from evalsite.errors import InputError
from mushra.webmushra_config import read_config
from mushra.webmushra_import import webmushra_import


class Command(BaseCommand):
    help = (
        "Import a webMUSHRA configuration (YAML) and the folder its audio paths are relative to "
        "as a draft listening test: mushra pages make a MUSHRA test, 5-point likert pages an ACR "
        "test, paired_comparison pages an ABX test of the recordings and the systems. Prints "
        "what was not carried over. Any refusal imports nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("config", type=Path, metavar="CONFIG.yaml")
        parser.add_argument("audio", type=Path, metavar="AUDIO_DIR")
        parser.add_argument("--project", type=int, help="project id (default: default project)")
        parser.add_argument("--name", help="test and corpus name instead of the testname")
        parser.add_argument("--slug", help="test address instead of the testId")
        parser.add_argument(
            "--system-prefix", default="", help="put before each stimuli key to name its system"
        )

    def handle(self, *args, config: Path, audio: Path, project, name, slug, **options) -> None:
        try:
            plan = read_config(config, audio).renamed(name=name, slug=slug)
            test = webmushra_import(
                plan=plan,
                audio_root=audio,
                project_id=project,
                system_prefix=options["system_prefix"],
            )
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for note in plan.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {config.name} as the draft {test.get_test_type_display()} test "
                f"'{test.name}': {len(plan.items)} item(s), {len(plan.systems)} system(s); "
                "preparation queued."
            )
        )
        self.stdout.write(f"Check and open it at {reverse('mushra:progress', args=[test.pk])}")
        self.stdout.write(f"Listeners will start at {reverse('mushra:entry', args=[test.slug])}")
