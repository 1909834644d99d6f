import uuid

from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import BaseCommand, CommandError

from evalsite.health import QUEUES
from evalsite.tasks import ping


class Command(BaseCommand):
    help = "Send a ping task through each queue and wait for a worker to answer (a round trip)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0)
        parser.add_argument("--queue", action="append", choices=QUEUES, dest="queues")

    def handle(self, *args, timeout: float, queues: list[str] | None, **options) -> None:
        for queue in queues or QUEUES:
            token = uuid.uuid4().hex
            result = ping.apply_async((token,), queue=queue, expires=timeout)
            try:
                reply = result.get(timeout=timeout)
            except CeleryTimeout:
                raise CommandError(
                    f"no worker answered on queue '{queue}' in {timeout:g} s"
                ) from None
            if reply["token"] != token:
                raise CommandError(f"queue '{queue}': wrong reply {reply!r}")
            self.stdout.write(f"queue '{queue}': answered by {reply['host']} (pid {reply['pid']})")
