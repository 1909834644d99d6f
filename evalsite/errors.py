"""The one error type for expected failures (bad input), turned into a clear message by callers:
HTTP 400 with a JSON body, a form error, or a CLI exit code 2 with one line per problem."""


class InputError(Exception):
    """Bad input. ``problems`` lists every problem found, each naming where it is (file, line)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return "\n".join([self.message, *(f"  - {p}" for p in self.problems)])
