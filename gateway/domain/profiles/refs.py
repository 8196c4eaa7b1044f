"""Secret references: how a profile names a key, password or shared secret without holding it.

A profile never contains secret material. It says where the secret lives:

* ``env:NAME``: the environment variable ``NAME``;
* ``file:PATH``: a file; a relative ``PATH`` resolves against the profile's directory.

Anything else, in particular a plain string or PEM text (``-----BEGIN``), is rejected with
a message that never repeats the value. A :class:`SecretRef` prints, serialises and
compares as its reference; the value is only produced by :meth:`SecretRef.read`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from gateway.domain.profiles.common import resolve_path

__all__ = ["SecretRef", "SecretUnavailable"]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HINT = "give a reference 'env:NAME' or 'file:PATH' instead"


class SecretUnavailable(LookupError):
    """The referenced secret cannot be read; the message names the reference, never a value."""


class SecretRef:
    """A reference to a secret held in the environment or in a file."""

    __slots__ = ("kind", "target")

    def __init__(self, kind: Literal["env", "file"], target: str) -> None:
        self.kind: Literal["env", "file"] = kind
        self.target = target  # the variable name, or the absolute file path

    @property
    def reference(self) -> str:
        """The reference as text, e.g. ``env:ACME_HMAC`` or ``file:/etc/edigate/acme.key``."""
        return f"{self.kind}:{self.target}"

    def __str__(self) -> str:
        return self.reference

    def __repr__(self) -> str:
        return f"SecretRef({self.reference!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and (self.kind, self.target) == (other.kind, other.target)

    def __hash__(self) -> int:
        return hash((self.kind, self.target))

    def read(self) -> bytes:
        """Fetch the secret's value. Raise :class:`SecretUnavailable` when it is not there."""
        if self.kind == "env":
            value = os.environ.get(self.target)
            if value is None:
                raise SecretUnavailable(f"environment variable {self.target} is not set")
            return value.encode()
        try:
            return Path(self.target).read_bytes()
        except OSError as exc:
            raise SecretUnavailable(f"cannot read secret file {self.target}: {exc.strerror}") from exc

    def read_text(self) -> str:
        """The secret decoded as UTF-8, with one trailing newline (as files usually have) removed."""
        text = self.read().decode("utf-8")
        return text.removesuffix("\n")

    @classmethod
    def parse(cls, raw: object, info: ValidationInfo | None = None) -> SecretRef:
        """Check ``raw`` is a reference and build it; ``info`` supplies the profile directory."""
        if isinstance(raw, SecretRef):
            return raw
        if not isinstance(raw, str):
            raise ValueError(f"secrets are given by reference: {_HINT}")
        text = raw.strip()
        if "-----BEGIN" in text:
            raise ValueError(f"inline key or certificate material is not allowed here; {_HINT}")
        kind, sep, target = text.partition(":")
        if not sep or kind not in ("env", "file"):
            raise ValueError(f"looks like an inline secret; {_HINT}")
        if kind == "env":
            if not _ENV_NAME.fullmatch(target):
                raise ValueError("env: reference needs a variable name of letters, digits and '_'")
            return cls("env", target)
        if not target or "\n" in target or "\x00" in target:
            raise ValueError("file: reference needs a path")
        path = resolve_path(target, info) if info is not None else Path(target).expanduser().absolute()
        return cls("file", str(path))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": "^(env|file):.+$", "description": "secret reference"}
