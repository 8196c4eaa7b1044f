"""The file-drop channel: a batch written in one go, each file with its own outcome."""

from __future__ import annotations

from pathlib import Path

from gateway.adapters.filedrop import FileDropChannel
from gateway.domain.runtime.ports import BatchSending, OutboundFile


async def test_a_batch_is_written_whole_and_never_overwrites(tmp_path: Path) -> None:
    channel = FileDropChannel(tmp_path)
    assert isinstance(channel, BatchSending)
    outbox = tmp_path / "acme" / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "old.x12").write_bytes(b"someone else's")
    results = await channel.send_many(
        [
            OutboundFile("acme", "p1", b"one", "a.x12"),
            OutboundFile("acme", "p2", b"two", "a.x12"),  # same name in the same batch
            OutboundFile("acme", "p3", b"three", "old.x12"),  # a different file already has it
            OutboundFile("beta", "p4", b"four", "../b.x12"),
            OutboundFile("acme", "p5", b"one", "a.x12"),  # the same content again: the same file
        ]
    )
    assert all(r.ok for r in results)
    assert [r.remote_reference for r in results] == ["a.x12", "a.p2.x12", "old.p3.x12", "b.x12", "a.x12"]
    assert len(list(outbox.iterdir())) == 4
    assert (outbox / "a.x12").read_bytes() == b"one"
    assert (outbox / "a.p2.x12").read_bytes() == b"two"
    assert (outbox / "old.x12").read_bytes() == b"someone else's"
    assert (tmp_path / "beta" / "outbox" / "b.x12").read_bytes() == b"four"
    assert not list(tmp_path.rglob("*.tmp"))

    [again] = await channel.send_many([OutboundFile("acme", "p1", b"one", "a.x12")])  # a resend
    assert again.remote_reference == "a.x12"  # the same content keeps its name


async def test_a_file_that_cannot_be_written_fails_alone_and_retryably(tmp_path: Path) -> None:
    channel = FileDropChannel(tmp_path)
    (tmp_path / "blocked").write_bytes(b"a file where the partner's folder should be")
    ok, failed = await channel.send_many(
        [OutboundFile("acme", "p1", b"one", "a.x12"), OutboundFile("blocked", "p2", b"two", "b.x12")]
    )
    assert ok.ok
    assert (tmp_path / "acme" / "outbox" / "a.x12").read_bytes() == b"one"
    assert not failed.ok
    assert failed.retryable
    assert failed.detail.startswith(f"cannot write to {tmp_path}")
