from django.apps import AppConfig


class EvalsiteConfig(AppConfig):
    """Platform-level pieces: health checks, ping task, admin/demo commands."""

    name = "evalsite"
    verbose_name = "Platform"
