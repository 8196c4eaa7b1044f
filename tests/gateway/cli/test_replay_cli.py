"""``edigate replay`` and ``messages list`` selecting by filter, through ``main()``, on SQLite and
PostgreSQL: business number, document type in both spellings, a time range given without an
offset (UTC, whatever the machine's zone), refusal of an empty selection, and progress on stderr."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gateway.adapters.store import open_store
from gateway.cli.main import main
from gateway.cli.support import ProgressLines
from gateway.domain.runtime.errors import InvalidDocument
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.replay import ReplayJob, ReplayMode, ReplayRequest
from tests.gateway.adapters.http.helpers import seed_failed, seed_rejected, seed_routed
from tests.gateway.runtime.helpers import REPO
from tests.support.postgres import create_database, drop_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/var/edigate.db"
        return
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("EDIGATE_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "edigate.yaml"
    settings = {
        "database_url": database_url,
        "partners_dir": str(REPO / "partners"),
        "mappings_dir": str(REPO / "mappings"),
        "var_dir": str(tmp_path / "var"),
        "spool_dir": str(tmp_path / "spool"),
        "filedrop_dir": str(tmp_path / "filedrop"),
    }
    path.write_text(yaml.safe_dump(settings))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _seed(database_url: str) -> tuple[dict[str, str], dict[str, datetime]]:
    """Five payloads received one after the other: their IDs and times (UTC) by name."""

    async def seed() -> tuple[dict[str, str], dict[str, datetime]]:
        store = await open_store(database_url)
        try:
            seeds = [
                ("po", lambda: seed_routed(store, b"ISA*po", business_numbers=("PO-100",))),
                ("rejected_850", lambda: seed_rejected(store, b"ISA*rejected")),
                (
                    "invoice",
                    lambda: seed_routed(
                        store, b"ISA*inv", business_numbers=("INV-7",), document_type="invoice", set_id="810"
                    ),
                ),
                ("unparsed", lambda: seed_failed(store, b"garbage")),
                (
                    "other_po",
                    lambda: seed_routed(
                        store, b"ISA*po2", partner="northwind-supply", business_numbers=("PO-100",)
                    ),
                ),
            ]
            ids, times = {}, {}
            for name, make in seeds:
                record = await make()
                ids[name], times[name] = record.id, record.received_at.astimezone(UTC)
                await asyncio.sleep(0.01)
            return ids, times
        finally:
            await store.close()

    return asyncio.run(seed())


def _replay_counts(database_url: str, ids: dict[str, str]) -> dict[str, int]:
    async def counts() -> dict[str, int]:
        store = await open_store(database_url, migrate=False)
        try:
            out = {}
            for name, pid in ids.items():
                record = await store.get_payload(pid)
                assert record is not None
                out[name] = record.replay_count
            return out
        finally:
            await store.close()

    return asyncio.run(counts())


@pytest.mark.usefixtures("local_time_five_hours_behind_utc")
def test_replay_by_filter_selects_exactly_what_it_names(
    config: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids, times = _seed(database_url)
    base = ["--config", str(config), "--reason", "mapping fixed (OPS-9)", "--actor", "sam"]

    def replay(*criteria: str) -> tuple[set[str], str]:
        before = _replay_counts(database_url, ids)
        code, out, err = _run(capsys, "replay", "raw", *criteria, *base)
        assert code == 0, err
        job = json.loads(out)  # stdout holds the summary only
        after = _replay_counts(database_url, ids)
        replayed = {name for name in ids if after[name] > before[name]}
        assert (job["total"], job["succeeded"], job["failed"]) == (len(replayed), len(replayed), []), criteria
        return replayed, err

    assert replay("--business-number", "PO-100")[0] == {"po", "other_po"}
    assert replay("--business-number", "PO-100", "--partner", "acme-retail")[0] == {"po"}
    orders = {"po", "rejected_850", "other_po"}
    assert replay("--type", "purchase_order")[0] == orders
    assert replay("--type", "850")[0] == orders
    assert replay("--type", "810")[0] == {"invoice"}
    assert replay("--type", "invoice")[0] == {"invoice"}

    naive = "%Y-%m-%dT%H:%M:%S.%f"  # no offset: UTC, though local time is 5 hours behind
    since, until = times["rejected_850"].strftime(naive), times["unparsed"].strftime(naive)
    assert replay("--since", since, "--until", until)[0] == {"rejected_850", "invoice"}
    assert replay("--since", times["unparsed"].isoformat())[0] == {"unparsed", "other_po"}
    assert replay("--until", since)[0] == {"po"}

    replayed, err = replay("--type", "purchase_order")
    assert replayed == orders
    lines = err.splitlines()
    assert lines[0].endswith("(raw): 3 payloads to replay")
    assert lines[1:4] == [
        "replayed 1/3 (1 ok, 0 failed)",
        "replayed 2/3 (2 ok, 0 failed)",
        "replayed 3/3 (3 ok, 0 failed)",
    ]

    listing = [
        "messages",
        "list",
        "--config",
        str(config),
        "--since",
        since,
        "--until",
        until,
        "--format",
        "json",
    ]
    code, out, _ = _run(capsys, *listing)
    assert code == 0
    assert {m["id"] for m in json.loads(out)} == {ids["rejected_850"], ids["invoice"]}


def test_replay_refuses_an_empty_or_inverted_selection(
    config: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids, times = _seed(database_url)
    base = ["--config", str(config), "--reason", "replay everything?"]
    code, out, err = _run(capsys, "replay", "raw", *base)
    assert (code, out) == (2, "")
    assert err.strip() == "edigate: give IDs or a filter (--partner, --state, --since, ...)"
    code, _, err = _run(capsys, "replay", "raw", "--partner", "", *base)  # a blank criterion is none
    assert code == 2
    later, earlier = times["other_po"].isoformat(), times["po"].isoformat()
    code, _, err = _run(capsys, "replay", "raw", "--since", later, "--until", earlier, *base)
    assert (code, err.strip()) == (2, "edigate: --until must be after --since")
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "raw", "--since", "yesterday", *base])
    assert exit_.value.code == 2
    assert "'yesterday' is not an ISO 8601 time" in capsys.readouterr().err
    assert set(_replay_counts(database_url, ids).values()) == {0}


def test_the_replay_use_case_refuses_a_filter_without_criteria() -> None:
    for flt in (MessageFilter(), MessageFilter(limit=500, offset=10), MessageFilter(partner_id="")):
        with pytest.raises(InvalidDocument) as refused:
            ReplayRequest(ReplayMode.RAW, "why", "sam", filter=flt)
        assert refused.value.details == [{"field": "filter", "error": "no criterion"}]
    assert ReplayRequest(ReplayMode.RAW, "why", "sam", filter=MessageFilter(document_type="850")).filter


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Stream:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines += [line for line in text.splitlines() if line]
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_lines_come_every_twentieth_and_while_items_are_slow() -> None:
    request = ReplayRequest(ReplayMode.RAW, "why", "sam", filter=MessageFilter(state=None, channel="sftp"))
    job = ReplayJob("job-1", request, datetime.now(UTC), total=100)
    clock, stream = _Clock(), _Stream()
    progress = ProgressLines(stream, seconds=5.0, clock=clock)  # type: ignore[arg-type]
    progress(job)
    for n in range(1, 101):
        job.done, job.succeeded = n, n
        if n == 7:
            clock.now += 6.0  # a slow item: a line before the next fifth
        progress(job)
    assert stream.lines[0] == "replay job-1 (raw): 100 payloads to replay"
    done = [int(line.split()[1].split("/")[0]) for line in stream.lines[1:]]
    assert done == [5, 7, *range(12, 98, 5), 100]
    assert stream.lines[-1] == "replayed 100/100 (100 ok, 0 failed)"
