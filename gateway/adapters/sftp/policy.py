"""What a partner may do on our SFTP server, as pure functions of paths (no I/O).

Each partner sees a virtual tree whose only real directories are its three *areas*,
named by the profile's ``paths`` (for example ``/inbox``, ``/outbox``, ``/archive``, or
``/in`` and ``/out``). Directories above an area exist only to reach it. Rules:

======== ============================================================================
area     the partner may
======== ============================================================================
inbox    create and write files, rename temporary files, remove temporary files
outbox   list, read (download) and remove (collect) the files we put there
archive  list and read the files it uploaded, after we have taken them
======== ============================================================================

Refused (shown as *permission denied*): ``..`` anywhere, NUL or backslash, any
path that is not in an area or on the way to one, names starting with ``.`` (our
staging files), sub-directories, ``mkdir``/``rmdir``, symbolic links and anything
written outside the inbox. A name ending in ``.part``, ``.filepart`` or ``.tmp`` is
*temporary*: it is never ingested; the upload completes when it is renamed to a name
that is not temporary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.adapters.sftp.errors import PathRefused

__all__ = ["TEMP_SUFFIXES", "Area", "Layout", "Location", "is_temporary"]

TEMP_SUFFIXES = (".part", ".filepart", ".tmp")
_MAX_NAME_BYTES = 255


class Area(StrEnum):
    INBOX = "inbox"
    OUTBOX = "outbox"
    ARCHIVE = "archive"


def is_temporary(name: str) -> bool:
    """Whether an upload with this name is still in progress (completed by a rename)."""
    return name.lower().endswith(TEMP_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved partner path: a virtual directory, an area, or a file in an area."""

    parts: tuple[str, ...]
    area: Area | None = None
    name: str | None = None  # set for a file inside an area

    @property
    def path(self) -> str:
        return "/" + "/".join(self.parts)

    @property
    def is_file(self) -> bool:
        return self.name is not None


def _parts(raw: str) -> tuple[str, ...]:
    if "\x00" in raw or "\\" in raw:
        raise PathRefused("path contains NUL or a backslash")
    parts = tuple(p for p in raw.split("/") if p not in ("", "."))
    if ".." in parts:
        raise PathRefused("'..' is not allowed in paths")
    return parts


def _area_parts(path: str) -> tuple[str, ...]:
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if not parts or ".." in parts:
        raise ValueError(f"area path {path!r} must name a directory below the root")
    return parts


class Layout:
    """A partner's three areas at their virtual paths; resolves and checks partner paths."""

    def __init__(self, inbox: str, outbox: str, archive: str | None = None) -> None:
        self.areas: dict[Area, tuple[str, ...]] = {
            Area.INBOX: _area_parts(inbox),
            Area.OUTBOX: _area_parts(outbox),
            Area.ARCHIVE: _area_parts(archive or "/archive"),
        }
        found = list(self.areas.values())
        for i, one in enumerate(found):
            for other in found[i + 1 :]:
                shorter = min(len(one), len(other))
                if one[:shorter] == other[:shorter]:
                    raise ValueError("inbox, outbox and archive must be distinct, not nested in each other")

    def canonical(self, raw: str) -> str:
        """``realpath``: ``..`` is resolved lexically and may not climb above the root."""
        stack: list[str] = []
        if "\x00" in raw or "\\" in raw:
            raise PathRefused("path contains NUL or a backslash")
        for part in raw.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not stack:
                    raise PathRefused("path climbs above the partner's root")
                stack.pop()
            else:
                stack.append(part)
        return "/" + "/".join(stack)

    def resolve(self, raw: str) -> Location:
        """The location of ``raw``, or :class:`PathRefused` when it is outside what the partner may see."""
        parts = _parts(raw)
        for area, prefix in self.areas.items():
            if parts == prefix:
                return Location(parts, area)
            if len(parts) == len(prefix) + 1 and parts[:-1] == prefix:
                name = parts[-1]
                if name.startswith("."):
                    raise PathRefused("names starting with '.' are reserved")
                if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
                    raise PathRefused("file name is too long")
                return Location(parts, area, name)
        if any(prefix[: len(parts)] == parts for prefix in self.areas.values()):
            return Location(parts)  # the root, or a directory on the way to an area
        raise PathRefused(f"{'/' + '/'.join(parts)} is outside the partner's folders")

    def children(self, location: Location) -> list[str]:
        """Names of the virtual sub-directories under a directory that is not an area."""
        depth = len(location.parts)
        return sorted(
            {prefix[depth] for prefix in self.areas.values() if prefix[:depth] == location.parts}
        )

    def file_in(self, raw: str, *areas: Area) -> Location:
        """A file in one of ``areas``; anything else is refused."""
        location = self.resolve(raw)
        if not location.is_file or location.area not in areas:
            allowed = " or ".join(self.path_of(a) for a in areas)
            raise PathRefused(f"{location.path}: only files in {allowed} are allowed here")
        return location

    def path_of(self, area: Area) -> str:
        return "/" + "/".join(self.areas[area])
