from django.conf import settings
from django.core.management.base import BaseCommand

from evalsite.services import admin_account_ensure


class Command(BaseCommand):
    help = (
        "Create the scientist admin account if missing (EVALSITE_ADMIN_USER / "
        "EVALSITE_ADMIN_PASSWORD, else a random password printed once)."
    )

    def handle(self, *args, **options) -> None:
        account = admin_account_ensure(
            username=settings.ADMIN_USERNAME, password=settings.ADMIN_PASSWORD
        )
        if account.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created admin account '{account.username}' with password "
                    f"'{account.password}' (shown once; keep it)."
                )
            )
        elif account.password:
            self.stdout.write(f"Admin account '{account.username}': password set from environment.")
        else:
            self.stdout.write(
                f"Admin account '{account.username}' exists; password unchanged "
                "(set EVALSITE_ADMIN_PASSWORD to reset it)."
            )
