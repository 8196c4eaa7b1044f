"""The live set of partner profiles, reloadable without a restart."""

from __future__ import annotations

from pathlib import Path

from gateway.domain.profiles import LoadResult, ProfileSet, check_profiles

__all__ = ["ProfileRegistry"]


class ProfileRegistry:
    """Holds the current :class:`ProfileSet`; a reload that finds problems keeps the old set."""

    def __init__(self, directory: Path, mappings_dir: Path | None = None) -> None:
        self.directory = directory
        self.mappings_dir = mappings_dir
        result = self.check()
        if result.problems:
            from gateway.domain.profiles import ProfileError

            raise ProfileError(result.problems)
        self._current = _as_set(result)
        self.generation = 1

    @property
    def current(self) -> ProfileSet:
        return self._current

    def check(self) -> LoadResult:
        mappings = self.mappings_dir if self.mappings_dir and self.mappings_dir.is_dir() else None
        return check_profiles(self.directory, mappings_dir=mappings)

    def reload(self) -> LoadResult:
        """Validate the directory again; swap in the new set only when every profile is valid."""
        result = self.check()
        if not result.problems:
            self._current = _as_set(result)
            self.generation += 1
        return result


def _as_set(result: LoadResult) -> ProfileSet:
    return ProfileSet(
        (profile for profile, _ in result.entries),
        sources={profile.partner_id: path for profile, path in result.entries},
        warnings=result.warnings,
    )
