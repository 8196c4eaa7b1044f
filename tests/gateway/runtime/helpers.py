"""Helpers shared by the runtime tests: waiting for a condition, a private copy of the site files,
``edigate serve`` as a real process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import RabbitSettings

REPO = Path(__file__).resolve().parents[3]


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` every 50 ms until it holds; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or predicate}")


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_env(database: str, amqp: str, rabbit: RabbitSettings, tmp_path: Path) -> dict[str, str]:
    """The environment of an ``edigate serve`` process: this one's without its ``EDIGATE_`` settings,
    plus the database, the broker and the test's own names on it, the example site, and the spool and
    file-drop directories under ``tmp_path``. Callers add the port, the var directory and tuning."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")},
        "EDIGATE_DATABASE_URL": database,
        "EDIGATE_AMQP_URL": amqp,
        "EDIGATE_RABBIT__EXCHANGE": rabbit.exchange,
        "EDIGATE_RABBIT__QUEUE_PREFIX": rabbit.queue_prefix,
        "EDIGATE_RABBIT__DEAD_LETTER_EXCHANGE": rabbit.dead_letter_exchange,
        "EDIGATE_RABBIT__DEAD_LETTER_QUEUE": rabbit.dead_letter_queue,
        "EDIGATE_RABBIT__OUTBOUND_QUEUE": rabbit.outbound_queue,
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_MAPPINGS_DIR": str(REPO / "mappings"),
        "EDIGATE_SPOOL_DIR": str(tmp_path / "spool"),
        "EDIGATE_FILEDROP_DIR": str(tmp_path / "filedrop"),
    }


def serve(env: dict[str, str], log: Path, cwd: Path = REPO) -> subprocess.Popen[bytes]:
    """Start ``edigate serve`` with ``env``, its output appended to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "serve"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(cwd),
    )


def analysis_workers(pid: int) -> list[int]:
    """The spawned child processes of ``pid`` (its analysis processes; Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not reaped by its parent yet, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def copy_site(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the example partner profiles (with the keys they reference) and mappings.

    Returns (partners_dir, mappings_dir); tests may edit them freely.
    """
    root = tmp_path / "site"
    shutil.copytree(REPO / "partners", root / "partners")
    shutil.copytree(REPO / "deploy" / "dev-keys", root / "deploy" / "dev-keys")
    shutil.copytree(REPO / "mappings", root / "mappings")
    return root / "partners", root / "mappings"


def partner_ack(
    kind: str,
    *,
    sender: tuple[str, str],
    gs_sender: str,
    functional_id: str,
    gs06: str,
    set_id: str,
    st02: str,
    status: str,
    isa13: int = 7001,
    version: str = "004010",
    usage: str = "P",
) -> bytes:
    """A 997 or 999 a partner sends us for one group with one set, with correct counts.

    ``status`` is the set's and the group's: A (accepted), E (accepted with errors) or R (rejected).
    An E or R set carries one segment error on the second segment.
    """
    from edi.model import Segment
    from edi.writer import EnvelopeParties, build_group, build_interchange, build_transaction, write

    ik = "IK" if kind == "999" else "AK"
    body = [
        Segment("AK1", [functional_id, gs06, *([version] if kind == "999" else [])]),
        Segment("AK2", [set_id, st02]),
    ]
    if status != "A":
        body.append(Segment(f"{ik}3", ["BSN" if set_id == "856" else "BEG", "2", "", "8"]))
    body.append(Segment(f"{ik}5", [status, *(["5"] if status != "A" else [])]))
    body.append(Segment("AK9", [status, "1", "1", "0" if status == "R" else "1"]))
    reference = "005010X231A1" if kind == "999" else None
    ts = build_transaction(kind, "0001", body, implementation_reference=reference)
    gs_version = "005010X231A1" if kind == "999" else version
    group = build_group("FA", gs_sender, "EDIGATE", isa13, gs_version, [ts])
    isa_version = "00501" if kind == "999" else "00401"
    parties = EnvelopeParties(sender[0], sender[1], "ZZ", "EDIGATE")
    return write(build_interchange(parties, isa13, [group], version=isa_version, usage=usage), newline=True)


def partner_ta1(
    *, sender: tuple[str, str], acknowledged_isa13: str, status: str, note: str, isa13: int = 7002
) -> bytes:
    """A TA1 on its own (no groups) a partner sends us about one of our interchanges."""
    from edi.model import Segment
    from edi.writer import EnvelopeParties, build_interchange, write

    ta1 = Segment("TA1", [acknowledged_isa13, "261121", "0800", status, note])
    parties = EnvelopeParties(sender[0], sender[1], "ZZ", "EDIGATE")
    return write(build_interchange(parties, isa13, [], service_segments=[ta1]), newline=True)


def canonical_from_x12(
    fixture: str, partner_id: str, document_type: str, correlation_id: str, **fields: object
) -> bytes:
    """A canonical outbound document, as an ERP would publish it, built from a mapping fixture."""
    import json
    from datetime import UTC, datetime

    from edi import parse
    from gateway.domain.canonical import (
        DocumentHeader,
        DocumentType,
        SourceChannel,
        Usage,
        dump_document,
        parse_document,
    )
    from gateway.domain.canonical.header import Direction as DocDirection
    from gateway.domain.mapping import Mapper

    x12 = parse((REPO / "fixtures/mapping" / fixture).read_bytes())
    ix = x12.interchanges[0]
    group = ix.groups[0]
    header = DocumentHeader(
        partner_id=partner_id,
        document_type=DocumentType(document_type),
        direction=DocDirection.OUTBOUND,
        source_channel=SourceChannel.BROKER,
        usage=Usage.PRODUCTION,
        correlation_id=correlation_id,
        received_at=datetime.now(UTC),
    )
    doc = Mapper.load(REPO / "mappings").x12_to_canonical(
        group.transactions[0], interchange=ix, group=group, profile=None, header=header
    )
    data = json.loads(dump_document(doc))
    data.update(fields)
    return dump_document(parse_document(data))
