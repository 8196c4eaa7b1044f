"""The live partner profiles and mapping variants, reloadable without a restart.

Profiles are checked against the mapping files they name, so the two are loaded and
swapped together: the pipeline never runs new profiles with old mappings or the reverse.

Reloading happens when support asks for it (``POST /api/v1/partners/reload`` on the
instance that answers), and, on every instance, before the pipeline processes a replayed
payload when the files changed since they were loaded (:meth:`refresh_if_changed`): a
replay from raw always uses the current profiles and mappings, whichever instance runs it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.domain.mapping import Mapper, MappingError
from gateway.domain.profiles import LoadResult, Problem, ProfileError, ProfileSet, check_profiles

__all__ = ["Fingerprint", "ProfileRegistry"]

log = logging.getLogger("edigate.profiles")

#: (path, size, mtime) of every profile and mapping file a registry loaded.
Fingerprint = tuple[tuple[str, int, int], ...]


class ProfileRegistry:
    """Holds the current :class:`ProfileSet` and :class:`Mapper`; a reload that finds problems
    keeps the old ones."""

    def __init__(self, directory: Path, mappings_dir: Path | None = None) -> None:
        self.directory = directory
        self.mappings_dir = mappings_dir
        fingerprint = self._fingerprint()
        result, mapper = self._load()
        if result.problems:
            raise ProfileError(result.problems)
        assert mapper is not None
        self._current = _as_set(result)
        self._mapper = mapper
        self._fingerprint_loaded = fingerprint
        self.generation = 1

    @property
    def current(self) -> ProfileSet:
        return self._current

    @property
    def loaded_fingerprint(self) -> Fingerprint:
        """The files the current profiles and mappings were loaded from (what analysis processes match)."""
        return self._fingerprint_loaded

    @property
    def mapper(self) -> Mapper:
        """The mapping variants loaded with the current profiles."""
        return self._mapper

    def _mappings(self) -> Path | None:
        return self.mappings_dir if self.mappings_dir and self.mappings_dir.is_dir() else None

    def check(self) -> LoadResult:
        return check_profiles(self.directory, mappings_dir=self._mappings())

    def _load(self) -> tuple[LoadResult, Mapper | None]:
        result = self.check()
        mappings = self._mappings()
        try:
            mapper = Mapper.load(mappings) if mappings is not None else Mapper()
        except MappingError as exc:
            result.problems.append(Problem(mappings or self.directory, "", str(exc)))
            return result, None
        return result, mapper

    def reload(self) -> LoadResult:
        """Validate the profiles and mappings again; swap both in only when everything is valid."""
        fingerprint = self._fingerprint()
        result, mapper = self._load()
        if not result.problems and mapper is not None:
            self._current, self._mapper = _as_set(result), mapper
            self._fingerprint_loaded = fingerprint
            self.generation += 1
        return result

    def refresh_if_changed(self) -> bool:
        """Reload when a profile or mapping file changed since the last load; True if reloaded.

        Invalid files keep the loaded set (and are logged), as :meth:`reload` does.
        """
        fingerprint = self._fingerprint()
        if fingerprint == self._fingerprint_loaded:
            return False
        result = self.reload()
        if result.problems:
            self._fingerprint_loaded = fingerprint  # report a broken edit once, not on every batch
            log.error(
                "changed profiles or mappings are invalid; keeping the loaded ones",
                extra={"problems": [str(p) for p in result.problems[:10]]},
            )
            return False
        log.info("profiles and mappings reloaded", extra={"generation": self.generation})
        return True

    def _fingerprint(self) -> Fingerprint:
        """(path, size, mtime) of every profile and mapping file: cheap to compare."""
        out: list[tuple[str, int, int]] = []
        for folder in (self.directory, self._mappings()):
            if folder is None or not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    out.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(out)


def _as_set(result: LoadResult) -> ProfileSet:
    return ProfileSet(
        (profile for profile, _ in result.entries),
        sources={profile.partner_id: path for profile, path in result.entries},
        warnings=result.warnings,
    )
