"""Reading partner profiles from YAML: every file, every problem, one error.

:func:`load_profiles` validates each ``*.yaml``/``*.yml`` file of a directory and only
then fails, with one :class:`ProfileError` listing every problem found in every file, so
an onboarding mistake is fixed in one round rather than one error at a time. A file with
invalid fields is still read as far as it is valid (see ``partial``): the profile-wide checks,
its rules' deviations and the partner ID, ISA identity, AS2 name and SFTP account it claims
are checked as well, instead of only after its field problems are fixed.

YAML is read with two safety changes: numbers with a leading zero (``004010``, ISA
qualifier ``01``) stay text instead of becoming octal integers, and a key repeated in one
mapping is an error rather than silently overwriting the first.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gateway.domain.profiles.common import FieldProblems, Loc
from gateway.domain.profiles.cross_checks import ProfileParts, profile_problems
from gateway.domain.profiles.documents import DocumentPolicy
from gateway.domain.profiles.errors import Problem, ProfileError
from gateway.domain.profiles.partial import read_claims, read_parts
from gateway.domain.profiles.profile import PartnerProfile
from gateway.domain.profiles.profile_set import Claims, ProfileSet, find_conflicts

__all__ = ["LoadResult", "check_profiles", "format_loc", "load_profile_file", "load_profiles"]

#: Certificates expiring within this window are reported as warnings.
EXPIRY_WARNING = timedelta(days=30)


class _ProfileYamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps zero-padded numbers as text and rejects repeated keys."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        text = str(node.value)
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0") and digits.isdigit():
            return text
        return super().construct_yaml_int(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"key '{key}' appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ProfileYamlLoader.add_constructor("tag:yaml.org,2002:int", _ProfileYamlLoader.construct_yaml_int)


def format_loc(loc: Loc) -> str:
    """Render a pydantic location as a field path.

    ``('channels', 'as2', 'partner_certificates', 1, 'path')`` becomes
    ``channels.as2.partner_certificates[1].path``.

    Union tags (written ``field=value``) and pydantic's ``[key]`` marker are left out.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "=" in part or part == "[key]":
            continue
        else:
            text += f".{part}" if text else part
    return text


def _problems_from(error: ValidationError, file: Path) -> list[Problem]:
    problems: list[Problem] = []
    for detail in error.errors(include_url=False, include_input=False):
        problems.extend(_detail_problems(detail, file))
    return problems


def _detail_problems(detail: ErrorDetails, file: Path) -> list[Problem]:
    loc: Loc = tuple(detail["loc"])
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblems):
        return [Problem(file, format_loc(loc + sub), reason) for sub, reason in cause.items]
    reason = detail["msg"].removeprefix("Value error, ")
    if "[key]" in loc:
        reason = f"key: {reason}"
    elif detail["type"] == "extra_forbidden":
        reason = "unknown field (check the spelling; see docs/partners.md)"
    elif detail["type"] == "missing":
        reason = "required field is missing"
    return [Problem(file, format_loc(loc), reason)]


def _read_yaml(file: Path) -> tuple[Any, list[Problem]]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, "", f"cannot read file: {exc}")]
    try:
        data = yaml.load(text, Loader=_ProfileYamlLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", f"invalid YAML: {' '.join(str(exc).split())}")]
    if not isinstance(data, dict):
        return None, [Problem(file, "", "a profile must be a YAML mapping of fields")]
    return data, []


def _context(file: Path) -> dict[str, Any]:
    return {"base_dir": file.parent.absolute()}


def _validate(data: dict[str, Any], file: Path) -> tuple[PartnerProfile | None, ProfileParts, list[Problem]]:
    """The profile, or None and what can be read of it; and the problems of either.

    Pydantic runs the profile-wide checks only when every field is valid (their problems have
    no field location of their own); otherwise they run here, on the parts that are valid."""
    context = _context(file)
    try:
        profile = PartnerProfile.model_validate(data, context=context)
    except ValidationError as exc:
        problems = _problems_from(exc, file)
        parts = read_parts(data, context)
        if all(detail["loc"] for detail in exc.errors(include_url=False, include_input=False)):
            problems.extend(Problem(file, format_loc(loc), why) for loc, why in profile_problems(parts))
        return None, parts, problems
    return profile, profile.parts(), []


def load_profile_file(file: Path) -> tuple[PartnerProfile | None, list[Problem]]:
    """Validate one file; relative paths inside it resolve against its directory.

    When fields are invalid, the profile-wide checks still run on the parts that are valid (see
    ``partial``), so one round shows every problem of the file."""
    data, problems = _read_yaml(file)
    if data is None:
        return None, problems
    profile, _, problems = _validate(data, file)
    return profile, problems


@dataclass
class LoadResult:
    """Everything learnt from a directory: valid profiles with their files, problems, warnings."""

    entries: list[tuple[PartnerProfile, Path]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _profile_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )


class _MappingCheck:
    """The mapping engine's view of each profile's deviations (see gateway.domain.mapping.checks).

    Imported when used: the mapping package builds on the profiles, not the other way round."""

    def __init__(self, mappings_dir: Path | None, result: LoadResult) -> None:
        from gateway.domain.mapping import Mapper, MappingError

        self.mappings = str(mappings_dir)
        self.mapper: Mapper | None = None
        if mappings_dir is not None:
            try:
                self.mapper = Mapper.load(mappings_dir)
            except MappingError as exc:  # a bad variant file: report it, check the profiles' own rules
                result.problems.append(Problem(Path(exc.field or mappings_dir), "", exc.message))

    def __call__(
        self, documents: Iterable[tuple[int, DocumentPolicy]], file: Path
    ) -> tuple[list[Problem], list[Problem]]:
        from gateway.domain.mapping.checks import check_documents

        problems, warnings = check_documents(documents, self.mapper, self.mappings)
        return [Problem(file, p, r) for p, r in problems], [Problem(file, p, r) for p, r in warnings]


def _certificate_warnings(profile: PartnerProfile, file: Path, now: datetime) -> list[Problem]:
    as2 = profile.channels.as2
    if as2 is None:
        return []
    warnings = []
    named = [(f"channels.as2.{name}", c) for name, c in as2.named_certificates()]
    for path, cert in named:
        assert cert.not_after is not None  # filled in by validation
        if cert.not_after <= now:
            warnings.append(Problem(file, path, f"certificate window ended {cert.not_after:%Y-%m-%d}"))
        elif cert.not_after - now <= EXPIRY_WARNING:
            warnings.append(
                Problem(file, path, f"certificate window ends soon, on {cert.not_after:%Y-%m-%d}")
            )
    if as2.partner_certificates and not as2.certificates_at(now):
        warnings.append(
            Problem(file, "channels.as2.partner_certificates", "no partner certificate is valid now")
        )
    return warnings


def check_profiles(
    directory: Path, *, mappings_dir: Path | None = None, now: datetime | None = None
) -> LoadResult:
    """Validate every profile file in ``directory`` and collect problems and warnings; never raises
    for invalid content (a missing directory is reported as a problem).

    Each document rule's deviations are checked against the mapping engine as well; with
    ``mappings_dir``, its named variant must be there and is checked too."""
    result = LoadResult()
    if not directory.is_dir():
        result.problems.append(Problem(directory, "", "not a directory of partner profiles"))
        return result
    moment = now or datetime.now(UTC)
    mapping = _MappingCheck(mappings_dir, result)
    claims: list[tuple[PartnerProfile | Claims, Path]] = []
    for file in _profile_files(directory):
        data, problems = _read_yaml(file)
        if data is None:
            result.problems.extend(problems)
            continue
        profile, parts, problems = _validate(data, file)
        mapping_problems, mapping_warnings = mapping(parts.documents, file)
        result.problems.extend(problems + mapping_problems)
        result.warnings.extend(mapping_warnings)
        if profile is None:  # compare what can be read of it with the other files
            claims.append((read_claims(data), file))
            continue
        claims.append((profile, file))
        result.warnings.extend(_certificate_warnings(profile, file, moment))
        result.entries.append((profile, file))
    result.problems.extend(find_conflicts(claims))
    return result


def load_profiles(directory: str | Path, *, mappings_dir: str | Path | None = None) -> ProfileSet:
    """Load and validate every profile in ``directory``; raise one :class:`ProfileError` listing all problems.

    With ``mappings_dir``, each document's ``mapping.variant`` must name a variant there.
    """
    mappings = Path(mappings_dir) if mappings_dir is not None else None
    result = check_profiles(Path(directory), mappings_dir=mappings)
    if result.problems:
        raise ProfileError(result.problems)
    return ProfileSet(
        (profile for profile, _ in result.entries),
        sources={profile.partner_id: file for profile, file in result.entries},
        warnings=result.warnings,
    )
