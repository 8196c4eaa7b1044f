"""Block-drawn random UUIDs: well-formed version 4 IDs, all distinct, never shared with a fork."""

from __future__ import annotations

import os
import signal
import uuid

from gateway.domain.runtime.ids import new_uuid


def test_ids_are_distinct_version_4_uuids_across_blocks() -> None:
    ids = [new_uuid() for _ in range(2000)]  # several blocks of 256
    assert len(set(ids)) == len(ids)
    assert {u.version for u in ids} == {4}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    assert all(str(uuid.UUID(str(u))) == str(u) for u in ids)


def test_a_forked_child_does_not_reuse_the_parents_block() -> None:
    new_uuid()  # the parent holds a block with unused bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ID and leave at once
        os.close(read)
        os.write(write, new_uuid().bytes)
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    parent_next = new_uuid()
    assert len(child) == 16
    assert child != parent_next.bytes


def test_a_child_forked_while_another_thread_draws_an_id_can_still_draw() -> None:
    """The lock may be held by a parent thread at the fork; the child gets a fresh one."""
    from gateway.domain.runtime import ids

    read, write = os.pipe()
    with ids._lock:  # as if another thread were inside new_uuid() when the fork happened
        pid = os.fork()
        if pid == 0:
            os.close(read)
            signal.alarm(5)  # a deadlock ends the child instead of hanging the test
            os.write(write, new_uuid().bytes)
            os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), "the child hung on the parent's lock"
    assert len(child) == 16
