"""Analysis (parse, validate, map) in worker processes, beside the event loop instead of under its GIL.

Analysis is pure CPU work on stored bytes, so it can run anywhere that has the same
profiles and mappings. Each worker process loads its own :class:`ProfileRegistry` from
the folders the gateway's registry was loaded from. Every batch carries the fingerprint
(path, size, mtime of every file) of the set the gateway runs with; a worker whose set
differs loads the files again, and when the files on disk no longer match what the
gateway runs with (edited but not reloaded yet), it declines and the batch is analysed
in a thread of the gateway's own process, as without a pool. So a payload is never
analysed with other profiles than the gateway would use.

What comes back is the :class:`Analysis` with the partner named by ID (profiles hold
certificates, which do not cross process boundaries); the gateway puts its own profile
object back. A worker that dies (killed, out of memory) breaks the pool: that batch is
analysed in a thread and a new pool is started for the next one. A worker ends with the
gateway's process, even when that is killed with SIGKILL (Linux: the parent-death signal).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from edi.reader import SetValidator
from gateway.collector import tune_collector
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.usecases.analysis import Analysis, analyse_safely
from gateway.domain.usecases.registry import Fingerprint, ProfileRegistry

__all__ = ["AnalysisPool"]

log = logging.getLogger("edigate.pipeline")

_registry: ProfileRegistry | None = None
_validator: SetValidator | None = None

#: prctl(2) option: the signal this process gets when its parent ends.
_PR_SET_PDEATHSIG = 1

_Item = tuple[bytes, PayloadRecord]
_Result = list[tuple[str | None, Analysis]]


def _end_with(parent: int) -> None:
    """End this worker when the gateway's process ends, however it ends (a ``kill -9`` runs no
    clean-up in the gateway, and a worker blocked on its task queue would wait forever)."""
    if sys.platform.startswith("linux"):
        try:
            failed = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0
        except (OSError, AttributeError):  # no prctl: the worker may outlive a killed gateway
            failed = True
        if failed:
            log.warning("analysis process: no parent-death signal; it may outlive a killed gateway")
    if os.getppid() != parent:  # the gateway ended before the line above took effect
        os._exit(0)


def _start_worker(
    directory: Path, mappings_dir: Path | None, validator: SetValidator | None, parent: int
) -> None:
    global _registry, _validator
    _end_with(parent)
    # Ctrl-C in a terminal reaches the whole process group: the gateway stops its workers itself,
    # and an interrupted analysis would come back as a KeyboardInterrupt on the event loop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_collector()  # the same cycle-collector policy as the gateway process (docs/runtime.md)
    _registry = ProfileRegistry(directory, mappings_dir)
    _validator = validator


def _ready() -> bool:
    return _registry is not None


def _analyse_batch(fingerprint: Fingerprint, items: list[_Item]) -> _Result | None:
    """Analyse in a worker process; None when its profiles cannot match the gateway's."""
    registry = _registry
    if registry is None:
        return None
    if registry.loaded_fingerprint != fingerprint:
        registry.refresh_if_changed()
        if registry.loaded_fingerprint != fingerprint:
            return None
    out: _Result = []
    for content, record in items:
        analysis = analyse_safely(content, record, registry.current, registry.mapper, _validator)
        partner_id = analysis.partner.partner_id if analysis.partner is not None else None
        analysis.partner = None  # the gateway puts its own profile object back
        out.append((partner_id, analysis))
    return out


class AnalysisPool:
    """A small pool of spawned processes that analyse batches of stored payloads."""

    def __init__(self, registry: ProfileRegistry, validator: SetValidator | None, processes: int) -> None:
        self._registry = registry
        self._validator = validator
        self._processes = max(1, processes)
        self._executor: ProcessPoolExecutor | None = None
        self.unavailable: str | None = None  # why no process could be started, if none could

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self._processes,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process with threads
                initializer=_start_worker,
                initargs=(
                    self._registry.directory,
                    self._registry.mappings_dir,
                    self._validator,
                    os.getpid(),
                ),
            )
        return self._executor

    async def start(self) -> None:
        """Start the worker processes and wait until each has loaded the profiles.

        Where processes cannot be started at all (no ``/dev/shm`` for their queues' semaphores,
        a process limit, a worker failing as it starts), the gateway still starts: it logs why
        and analyses in a thread of its own process, as with ``analysis_processes: 0``.
        """
        loop = asyncio.get_running_loop()
        try:
            pool = self._pool()
            await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(self._processes)))
        except (OSError, NotImplementedError, BrokenProcessPool) as exc:
            self.unavailable = f"{type(exc).__name__}: {exc}"
            self._discard()
            log.error(
                "analysis processes could not be started; analysing in a thread of this process",
                extra={"reason": self.unavailable},
            )

    async def analyse(self, items: list[_Item]) -> list[Analysis] | None:
        """The analyses of ``items`` in order, or None when the batch must be analysed here."""
        if self.unavailable is not None:
            return None
        registry = self._registry
        profiles = registry.current
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._pool(), _analyse_batch, registry.loaded_fingerprint, items
            )
        except BrokenProcessPool as exc:
            log.error("an analysis process died; the batch is analysed here", extra={"reason": str(exc)})
            self._discard()
            return None
        if result is None:
            return None
        out: list[Analysis] = []
        for partner_id, analysis in result:
            analysis.partner = profiles.get(partner_id) if partner_id is not None else None
            out.append(analysis)
        return out

    def _discard(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
