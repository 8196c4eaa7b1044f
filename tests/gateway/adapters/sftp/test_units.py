"""Pure parts of the SFTP adapter: path policy, password hashes, schedule timing, keys, storage."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import gateway.adapters.sftp as sftp_pkg
from gateway.adapters.sftp import (
    Area,
    Layout,
    PathRefused,
    PublicKey,
    fingerprint,
    hash_password,
    is_temporary,
    load_or_create_host_key,
    verify_password,
)
from gateway.adapters.sftp.storage import PartnerStorage
from gateway.adapters.sftp.timing import first_slot, slot_after, upcoming_slot
from gateway.domain.profiles.schedule import Schedule

LAYOUT = Layout("/inbox", "/outbox", "/archive")


def test_public_api_is_pinned() -> None:
    assert set(sftp_pkg.__all__) >= {
        "SftpServer", "SftpPoller", "SftpPartnerChannel", "SftpSettings", "install_sftp", "SftpService",
        "hash_password", "verify_password", "poll_idempotency_key", "SftpMetrics", "SftpObserver",
    }  # fmt: skip
    assert all(hasattr(sftp_pkg, name) for name in sftp_pkg.__all__)


@pytest.mark.parametrize(
    ("raw", "area", "name"),
    [
        ("/inbox/a.x12", Area.INBOX, "a.x12"),
        ("inbox/a.x12", Area.INBOX, "a.x12"),
        ("//outbox/./b", Area.OUTBOX, "b"),
        ("/archive", Area.ARCHIVE, None),
        ("/", None, None),
    ],
)
def test_resolve_inside_the_root(raw: str, area: Area | None, name: str | None) -> None:
    location = LAYOUT.resolve(raw)
    assert (location.area, location.name) == (area, name)


@pytest.mark.parametrize(
    "raw",
    ["/../etc/passwd", "/inbox/../../etc", "/etc/passwd", "/inbox/sub/file", "/inbox/.hidden", "/in\x00box",
     "/inbox\\x", "/inbox/" + "x" * 256],
)  # fmt: skip
def test_resolve_refuses(raw: str) -> None:
    with pytest.raises(PathRefused):
        LAYOUT.resolve(raw)


def test_nested_area_paths_make_virtual_directories() -> None:
    layout = Layout("/outgoing/to-us", "/incoming", None)
    root = layout.resolve("/")
    assert layout.children(root) == ["archive", "incoming", "outgoing"]
    assert layout.children(layout.resolve("/outgoing")) == ["to-us"]
    assert layout.resolve("/outgoing/to-us/f").area is Area.INBOX
    with pytest.raises(PathRefused):
        layout.resolve("/outgoing/other")
    with pytest.raises(ValueError, match="distinct"):
        Layout("/a", "/a/b")


def test_canonical_never_climbs_above_the_root() -> None:
    assert LAYOUT.canonical("/inbox/../outbox/./x") == "/outbox/x"
    assert LAYOUT.canonical(".") == "/"
    with pytest.raises(PathRefused):
        LAYOUT.canonical("/inbox/../..")


def test_writes_only_into_the_inbox() -> None:
    assert LAYOUT.file_in("/inbox/x", Area.INBOX).name == "x"
    with pytest.raises(PathRefused, match="only files in /inbox"):
        LAYOUT.file_in("/outbox/x", Area.INBOX)
    with pytest.raises(PathRefused):
        LAYOUT.file_in("/inbox", Area.INBOX)


@pytest.mark.parametrize(("name", "temporary"), [("a.part", True), ("a.FILEPART", True), ("a.tmp", True),
                                                 ("a.x12", False), ("part", False)])  # fmt: skip
def test_temporary_names(name: str, temporary: bool) -> None:
    assert is_temporary(name) is temporary


@pytest.mark.parametrize(("scheme", "cost"), [("scrypt", 10), ("pbkdf2-sha256", 100_000)])
def test_password_hash_round_trip(scheme: str, cost: int) -> None:
    line = hash_password("s3cret pass", scheme=scheme, cost=cost)
    assert line.startswith(f"${scheme}$")
    assert "s3cret" not in line
    assert verify_password(line, "s3cret pass")
    assert not verify_password(line, "s3cret pasS")
    assert hash_password("s3cret pass", scheme=scheme, cost=cost) != line  # salted


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "$scrypt$ln=40,r=8,p=1$c2FsdA$aGFzaA", "$pbkdf2-sha256$10$c2FsdA$aGFzaA", "$1$abc$def",
     "$scrypt$ln=10,r=8,p=1$!!$!!"],
)  # fmt: skip
def test_malformed_or_expensive_hashes_never_match(stored: str) -> None:
    assert not verify_password(stored, "anything")


def test_interval_slots_are_aligned_to_the_epoch_so_every_instance_agrees() -> None:
    schedule = Schedule(interval_seconds=60)
    now = datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC)
    assert first_slot(schedule, now) == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the current slot: at once
    assert slot_after(schedule, first_slot(schedule, now)) == datetime(2026, 3, 2, 10, 1, tzinfo=UTC)
    odd = Schedule(interval_seconds=45)
    assert first_slot(odd, now).timestamp() % 45 == 0
    assert first_slot(odd, now) <= now < slot_after(odd, first_slot(odd, now))


def test_upcoming_slot_skips_slots_a_long_run_overran() -> None:
    schedule = Schedule(interval_seconds=60)
    slot = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert upcoming_slot(schedule, slot, slot.replace(second=20)) == slot.replace(minute=1)  # wait for it
    running = slot.replace(minute=1, second=5)
    assert upcoming_slot(schedule, slot, running) == slot.replace(minute=1)  # run now
    late = slot.replace(minute=3, second=10)
    assert upcoming_slot(schedule, slot, late) == slot.replace(minute=3)  # 10:01 and 10:02 are gone
    cron = Schedule(cron="*/10 * * * *")
    assert upcoming_slot(cron, slot, late) == slot.replace(minute=10)
    assert upcoming_slot(cron, slot, slot.replace(minute=9)) == slot.replace(minute=10)


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("*/10 6-22 * * 1-5", datetime(2026, 3, 2, 10, 0, 30), datetime(2026, 3, 2, 10, 10)),  # Monday
        ("*/10 6-22 * * 1-5", datetime(2026, 3, 6, 22, 55), datetime(2026, 3, 9, 6, 0)),  # Friday night
        ("0 0 29 2 *", datetime(2026, 1, 1), datetime(2028, 2, 29, 0, 0)),
        ("15 3 1 * 0", datetime(2026, 3, 2), datetime(2026, 3, 8, 3, 15)),  # day 1 OR Sunday
    ],
)
def test_cron_slots(cron: str, after: datetime, expected: datetime) -> None:
    moment = after.replace(tzinfo=UTC)
    assert first_slot(Schedule(cron=cron), moment) == expected.replace(tzinfo=UTC)  # the next match, not now
    assert slot_after(Schedule(cron=cron), moment) == expected.replace(tzinfo=UTC)


def test_host_key_is_private_and_stable(tmp_path: Path) -> None:
    key = load_or_create_host_key(tmp_path)
    assert os.stat(tmp_path / "ssh_host_ed25519_key").st_mode & 0o777 == 0o600
    again = load_or_create_host_key(tmp_path)
    assert PublicKey.of(again) == PublicKey.of(key)
    line = (tmp_path / "ssh_host_ed25519_key.pub").read_text()
    assert PublicKey.parse(line) == PublicKey.of(key)
    assert fingerprint(PublicKey.of(key).blob).startswith("SHA256:")


def test_outbox_writes_are_atomic_and_never_overwrite(tmp_path: Path) -> None:
    storage = PartnerStorage(tmp_path, "acme")
    storage.ensure()
    assert storage.write_outbox("../997.x12", b"one", "aaaa1111") == "997.x12"
    assert storage.write_outbox("997.x12", b"one", "bbbb2222") == "997.x12"  # same content: a resend
    assert storage.write_outbox("997.x12", b"two", "cccc3333") == "997.cccc3333.x12"
    outbox = storage.dir(Area.OUTBOX)
    assert sorted(p.name for p in outbox.iterdir()) == ["997.cccc3333.x12", "997.x12"]  # no temp left


def test_symlinks_on_disk_are_not_served(tmp_path: Path) -> None:
    storage = PartnerStorage(tmp_path, "acme")
    storage.ensure()
    link = storage.dir(Area.OUTBOX) / "passwd"
    link.symlink_to("/etc/passwd")
    assert storage.listing(Area.OUTBOX) == []
    with pytest.raises(PathRefused):
        storage.lstat(link)
    with pytest.raises(OSError):  # O_NOFOLLOW
        storage.open_read(link)
