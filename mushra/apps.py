from django.apps import AppConfig


class MushraConfig(AppConfig):
    """Listening tests (ITU-R BS.1534-3), listener sessions and ratings."""

    name = "mushra"
    verbose_name = "MUSHRA tests"
