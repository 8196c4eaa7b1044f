"""Building blocks shared by every profile model.

Owns the strict base model, the validation context (the profile's directory, against
which relative paths resolve), cross-field problem reporting, code coercion for YAML
numbers, URL and slug checks, and the retry policy that every channel uses.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

__all__ = [
    "Code",
    "FieldProblems",
    "HttpUrl",
    "Loc",
    "RetryPolicy",
    "Slug",
    "StrictModel",
    "base_dir",
    "resolve_path",
]

Loc = tuple[str | int, ...]


class StrictModel(BaseModel):
    """Base of every profile model: unknown keys are errors, values are immutable.

    ``hide_input_in_errors`` keeps rejected values (which may be secrets pasted inline)
    out of ``ValidationError`` text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class FieldProblems(ValueError):
    """Raised by cross-field validators to report several problems, each at its own path.

    ``items`` holds ``(path relative to the model, reason)``; the loader appends each path
    to the location of the model that raised, so reports name the exact field.
    """

    def __init__(self, items: Iterable[tuple[Loc, str]]) -> None:
        self.items: list[tuple[Loc, str]] = list(items)
        super().__init__(
            "; ".join(f"{'.'.join(map(str, loc)) or '<model>'}: {msg}" for loc, msg in self.items)
        )

    @classmethod
    def raise_if_any(cls, items: list[tuple[Loc, str]]) -> None:
        if items:
            raise cls(items)


def base_dir(info: ValidationInfo) -> Path:
    """The directory relative paths resolve against: the profile's own, else the cwd."""
    context = info.context
    if isinstance(context, dict) and isinstance(context.get("base_dir"), Path):
        return context["base_dir"]  # type: ignore[no-any-return]
    return Path.cwd()


def resolve_path(raw: str | Path, info: ValidationInfo) -> Path:
    """Resolve ``raw`` (``~`` expanded) against the profile's directory, without touching disk."""
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = base_dir(info) / path
    return Path(os.path.normpath(path))


def _code_to_str(value: Any) -> Any:
    """YAML reads ``850`` or ``12`` as integers; codes are text, so take them back."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: An X12 code or identifier; unquoted YAML numbers are accepted and kept as text.
Code = Annotated[str, BeforeValidator(_code_to_str)]

_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError("must be lowercase letters and digits separated by single '-' or '_'")
    return value


#: A lowercase identifier such as a partner id or a destination name.
Slug = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_slug)]


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("URL has no host")
    if parts.username or parts.password:
        raise ValueError("URL must not embed credentials; use a secret reference instead")
    if any(ch.isspace() for ch in value):
        raise ValueError("URL must not contain whitespace")
    return value


#: An absolute http(s) URL kept as text, exactly as written.
HttpUrl = Annotated[str, AfterValidator(_check_url)]


class RetryPolicy(StrictModel):
    """How often and how patiently a failed transfer is retried (exponential backoff)."""

    limit: int = Field(default=5, ge=0, le=100, description="retries after the first attempt")
    backoff_seconds: float = Field(default=60.0, gt=0, le=86_400, description="delay before retry 1")
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0)
    max_backoff_seconds: float = Field(default=3600.0, gt=0, le=7 * 86_400)

    @model_validator(mode="after")
    def _cap_not_below_start(self) -> RetryPolicy:
        if self.max_backoff_seconds < self.backoff_seconds:
            raise FieldProblems([(("max_backoff_seconds",), "must not be less than backoff_seconds")])
        return self

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based), capped by the maximum."""
        if retry < 1:
            raise ValueError("retry numbers start at 1")
        return min(self.backoff_seconds * self.multiplier ** (retry - 1), self.max_backoff_seconds)
