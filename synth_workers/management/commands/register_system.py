import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evalsite.errors import InputError
from synth_workers.services.registration import system_register


class Command(BaseCommand):
    help = (
        "Register a checkpoint system: hash and check its files, then wait for a worker to "
        "render one test sentence with it. Example: register_system 'Joe' --backend piper "
        "--file model=voice.onnx --file config=voice.onnx.json"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--backend", required=True)
        parser.add_argument("--file", action="append", default=[], help="ROLE=PATH")
        parser.add_argument("--config", default="{}", help="backend config as JSON")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--trusted", action="store_true", help="allow pickle-based files (administrators only)"
        )
        parser.add_argument("--timeout", type=float, default=120, help="seconds to wait")

    def handle(
        self, *args, name, backend, file, config, description, trusted, timeout, **options
    ) -> None:
        files = {}
        for pair in file:
            role, sep, path = pair.partition("=")
            if not sep or not role or not path:
                raise CommandError(f"--file {pair!r}: expected ROLE=PATH", returncode=2)
            files[role] = Path(path)
        try:
            parsed = json.loads(config)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc.msg}", returncode=2) from None
        try:
            system = system_register(
                name=name,
                backend=backend,
                config=parsed,
                files=files,
                trusted=trusted,
                description=description,
            )
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"Registered '{system.name}'; waiting for a worker to test it …")
        deadline = time.monotonic() + timeout
        while system.check_error == "waiting for a worker" and time.monotonic() < deadline:
            time.sleep(0.5)
            system.refresh_from_db()
        if system.usable:
            self.stdout.write(self.style.SUCCESS(f"'{system.name}' is usable."))
        elif system.check_error == "waiting for a worker":
            raise CommandError(
                f"no worker tested '{system.name}' in {timeout:g} s; is a synth "
                "worker running? (the check stays queued)",
                returncode=1,
            )
        else:
            raise CommandError(
                f"'{system.name}' failed its test: {system.check_error}", returncode=2
            )
