from django.core.management.base import BaseCommand

# Each app adds its demo data here as it gains models (corpora, systems, a MUSHRA test).
# Every seeder must be idempotent: `make demo` runs them on every start.
SEEDERS: list[str] = []


class Command(BaseCommand):
    help = "Seed the demo data of every app (idempotent)."

    def handle(self, *args, **options) -> None:
        if not SEEDERS:
            self.stdout.write("No demo data to seed yet.")
        for dotted in SEEDERS:
            module, func = dotted.rsplit(".", 1)
            seeder = getattr(__import__(module, fromlist=[func]), func)
            self.stdout.write(seeder())
