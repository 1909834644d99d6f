"""The one expected error of the backends package (its own module so every module can raise it)."""


class BackendError(ValueError):
    """An expected refusal, worded for the scientist: it names the file, field or speaker.

    Missing capability, bad config, unsafe file, empty or over-long text, unknown speaker: all
    raise this (never a library's own exception) so that callers turn them into one clear message
    (HTTP 400, CLI exit code 2). Like ``AudioError`` it is a ValueError.
    """
