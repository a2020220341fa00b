"""The one error type a user should ever see: `file: field: problem (fix)`, exit code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: the tool's own fault, reported in one line to send to its authors
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class InputError(Exception):
    """Bad input, reported as one line naming where it is, what is wrong and how to fix it."""

    def __init__(self, source: str, field: str, problem: str, fix: str = "") -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    @property
    def where(self) -> str:
        return ": ".join(part for part in (self.source, self.field) if part)

    def __str__(self) -> str:
        fix = f" ({self.fix})" if self.fix else ""
        # Input may carry line breaks (a YAML value, a server's message); the error stays one line.
        return one_line(f"{self.where}: {self.problem}{fix}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, str, str]]:
        # Rebuilt from its parts when it crosses a process boundary (batch runs, sweeps).
        return InputError, (self.source, self.field, self.problem, self.fix)

    def at(self, source: str) -> InputError:
        """The same error, attributed to `source` when it had none."""
        return self if self.source else InputError(source, self.field, self.problem, self.fix)


def one_line(text: str) -> str:
    """`text` with its line breaks and other control characters written as escapes."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class InternalError(Exception):
    """A result the tool should never produce (a non-finite number): one line, to report as a bug."""

    def __str__(self) -> str:
        return f"rent-or-own: internal error, please report it with the scenario: {self.args[0]}"


def suggest(name: str, choices: Iterable[str]) -> str:
    """A 'did you mean' fix for an unknown name."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.4)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "choose one of " + ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
