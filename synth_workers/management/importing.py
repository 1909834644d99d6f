"""What the two import commands share: a progress bar, exit code 2 for bad input, a report."""

from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from evalsite.errors import InputError


@contextmanager
def progress_bar(description: str, stream):
    """A terminal progress bar fed by the services' ``progress(done, total)`` callback."""
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="file", file=stream, leave=True)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def run_import(command: BaseCommand, service, **kwargs):
    """Run an import service with a progress bar; bad input → one line per problem, exit 2."""
    try:
        with progress_bar("Checking audio", command.stderr._out) as progress:
            return service(progress=progress, **kwargs)
    except InputError as exc:
        raise CommandError(str(exc), returncode=2) from None


def report_lines(command: BaseCommand, report, summary: str) -> None:
    for problem in report.skipped:
        command.stdout.write(f"skipped: {problem}")
    command.stdout.write(command.style.SUCCESS(f"Imported {summary}; preparation queued."))
