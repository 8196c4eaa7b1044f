"""Building blocks of :mod:`edi.validator`: element checks and HL hierarchy checks."""

from __future__ import annotations

from edi.validation.elements import ElementIssue, check_presence, check_use, check_value
from edi.validation.hierarchy import HierarchyChecker, HierarchyIssue

__all__ = ["ElementIssue", "HierarchyChecker", "HierarchyIssue", "check_presence", "check_use", "check_value"]
