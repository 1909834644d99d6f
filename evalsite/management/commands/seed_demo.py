from importlib import import_module

from django.core.management.base import BaseCommand

# Each app adds its seeder here as it gains models (corpora, systems, a MUSHRA test): a dotted
# path to a function that returns one line to print. Every seeder must be idempotent, because
# `make demo` runs them on every start.
SEEDERS: list[str] = ["synth_workers.demo.seed"]


class Command(BaseCommand):
    help = "Seed the demo data of every app (idempotent)."

    def handle(self, *args, **options) -> None:
        if not SEEDERS:
            self.stdout.write("No demo data to seed yet.")
        for dotted in SEEDERS:
            module, func = dotted.rsplit(".", 1)
            self.stdout.write(getattr(import_module(module), func)())
