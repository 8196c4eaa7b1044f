"""How profile problems are reported: every problem names its file, field path and reason.

ProfileError (ValueError)      one or more invalid profiles; ``.problems`` lists them all
SecretUnavailable (LookupError) a referenced secret cannot be read (see ``refs``)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Problem", "ProfileError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or, as a warning, worth knowing) about one profile file."""

    file: Path
    path: str  # e.g. "channels.as2.partner_certificates[1].path"; "" for the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '<file>'}: {self.reason}"


class ProfileError(ValueError):
    """Profiles failed validation. The message lists every problem, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} in partner profiles:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))
