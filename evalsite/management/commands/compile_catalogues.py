"""Compile the listener interface's translations (.po → .mo) without GNU gettext.

The .mo files are build outputs (not in git): ``make demo``, ``make test`` and the Dockerfiles
build them; run this after editing a .po by hand, or deploy without make.
"""

from django.core.management.base import BaseCommand

from evalsite.catalogues import compile_catalogues


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo (pure Python; only stale ones unless --all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="recompile every catalogue")

    def handle(self, *args, **options) -> None:
        compiled = compile_catalogues(force=options["all"])
        for mo_path in compiled:
            self.stdout.write(f"compiled {mo_path}")
        self.stdout.write(f"{len(compiled)} catalogue(s) compiled")
