"""Shared test fixtures: the real-world X12 corpus and the installed console script.

The corpus lives beside the repository (``../shared/corpus/x12``), as it does
in CI's fresh clone. Without it, corpus tests skip with a message; under
``CI=true`` they fail instead, so a broken checkout cannot pass silently.

Corpus tests take their file as a parameter named ``corpus_file`` (every file
in the corpus) or ``valid_corpus_file`` (files whose ``SOURCES.tsv`` notes
record no defect), a path relative to the corpus root, and look the file up
through the ``corpus_dir`` and ``corpus_notes`` fixtures.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus" / "x12"
_META_FILES = frozenset({"README.md", "SOURCES.tsv"})
#: Phrases in SOURCES.tsv notes that mark a file as having a known defect.
BROKEN_MARKERS = ("DELIBERATELY BROKEN", "envelope issues:", "SANITY-SCAN FAIL")


def _corpus_missing() -> None:
    message = f"X12 corpus not found at {CORPUS_DIR} (expected ../shared/corpus/x12 beside the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def read_sources(corpus: Path = CORPUS_DIR) -> dict[str, dict[str, str]]:
    """``SOURCES.tsv`` rows keyed by ``saved_path`` (the path relative to the corpus root)."""
    lines = (corpus / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line.strip()]
    return {row["saved_path"]: row for row in rows}


def corpus_files(corpus: Path = CORPUS_DIR) -> list[str]:
    """Every sample file in the corpus, as a POSIX path relative to its root."""
    return sorted(
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.is_file() and p.name not in _META_FILES
    )


def is_noted_broken(notes: str) -> bool:
    return any(marker in notes for marker in BROKEN_MARKERS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name in ("corpus_file", "valid_corpus_file"):
        if name not in metafunc.fixturenames:
            continue
        if not CORPUS_DIR.is_dir():
            # One placeholder case whose corpus_dir fixture skips (or fails under CI).
            metafunc.parametrize(name, [pytest.param("", id="corpus-missing")])
            continue
        files = corpus_files()
        if name == "valid_corpus_file":
            sources = read_sources()
            files = [f for f in files if f in sources and not is_noted_broken(sources[f]["notes"])]
        metafunc.parametrize(name, files)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The X12 corpus root; skips (or fails under ``CI=true``) when it is absent."""
    if not (CORPUS_DIR / "SOURCES.tsv").is_file():
        _corpus_missing()
    return CORPUS_DIR


@pytest.fixture(scope="session")
def corpus_notes(corpus_dir: Path) -> dict[str, str]:
    """``SOURCES.tsv`` notes per corpus file."""
    return {path: row["notes"] for path, row in read_sources(corpus_dir).items()}


@pytest.fixture(scope="session")
def edigate_script() -> Path:
    """The ``edigate`` console script installed in the virtualenv running the tests."""
    script = Path(sys.executable).parent / "edigate"
    if not script.is_file():
        found = shutil.which("edigate")
        if found is None:
            pytest.fail("the edigate console script is not installed: run scripts/bootstrap")
        script = Path(found)
    return script
