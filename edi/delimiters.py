"""X12 delimiters and their detection from the fixed-width ISA segment."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ISA_LENGTH", "Delimiters"]

#: An ISA segment is exactly this many bytes, terminator included.
ISA_LENGTH = 106


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four X12 separators of one interchange, as one-character strings.

    ``repetition`` is ``None`` before version 00402, where ISA11 is the
    interchange standards identifier (``U``) rather than a separator.
    """

    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = "^"

    def __post_init__(self) -> None:
        chars = [self.element, self.component, self.segment]
        if self.repetition is not None:
            chars.append(self.repetition)
        if any(len(c) != 1 for c in chars):
            raise ValueError("every delimiter is exactly one character")
        if len(set(chars)) != len(chars):
            raise ValueError(f"delimiters must be distinct: {chars!r}")

    @property
    def codec(self) -> str:
        """How text is decoded and encoded: UTF-8 (lossless via surrogateescape) when
        every delimiter is ASCII, else Latin-1 so a byte delimiter stays one character."""
        chars = [self.element, self.component, self.segment, self.repetition or "*"]
        return "utf-8" if all(ord(c) < 0x80 for c in chars) else "latin-1"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "segment": self.segment,
            "repetition": self.repetition,
        }
