"""What support staff run: ``edigate messages list|show``, ``edigate replay`` and
``edigate sequences reset`` (for a control-number sequence without wrap that reached its max)."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from gateway.cli.common import add_config_argument, dump, run_async, settings_from
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.replay import ReplayJob, ReplayMode, ReplayRequest

__all__ = ["ProgressLines", "register"]


def _instant(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is UTC, like the API's and the stored times.

    Left naive, it would mean UTC on SQLite but the machine's local time on PostgreSQL
    (asyncpg's reading), so the same command would select different messages per database.
    """
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2025-01-31T14:00:00Z or 2025-01-31)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partner")
    parser.add_argument(
        "--type",
        dest="document_type",
        help="canonical type (purchase_order) or X12 set ID (850); matches payloads whose documents "
        "or transaction sets have it, so also those that failed before becoming a document",
    )
    parser.add_argument("--state", choices=[s.value for s in State])
    parser.add_argument("--direction", choices=[d.value for d in Direction])
    parser.add_argument("--channel")
    parser.add_argument(
        "--since", type=_instant, help="received at or after; ISO 8601, UTC unless it has an offset"
    )
    parser.add_argument(
        "--until", type=_instant, help="received before; ISO 8601, UTC unless it has an offset"
    )
    parser.add_argument("--business-number", help="PO, shipment or invoice number, or ISA13/GS06/ST02")
    parser.add_argument("--correlation-id")


def _filter(args: argparse.Namespace, limit: int = 50, offset: int = 0) -> MessageFilter:
    return MessageFilter(
        partner_id=args.partner,
        document_type=args.document_type,
        state=State(args.state) if args.state else None,
        direction=Direction(args.direction) if args.direction else None,
        since=args.since,
        until=args.until,
        business_number=args.business_number,
        correlation_id=args.correlation_id,
        channel=args.channel,
        limit=limit,
        offset=offset,
    )


def _has_filter(args: argparse.Namespace) -> bool:
    return not _filter(args).empty


def _window_problem(args: argparse.Namespace) -> str | None:
    if args.since is not None and args.until is not None and args.since >= args.until:
        return "edigate: --until must be after --since"
    return None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    messages = subparsers.add_parser("messages", help="find stored messages and their history")
    msub = messages.add_subparsers(dest="messages_command", required=True, metavar="SUBCOMMAND")
    lst = msub.add_parser("list", help="list messages, newest first")
    _filters(lst)
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--offset", type=int, default=0)
    lst.add_argument("--format", choices=("text", "json"), default="text")
    add_config_argument(lst)
    lst.set_defaults(handler=_list)
    show = msub.add_parser("show", help="one message with envelopes, documents, findings and audit trail")
    show.add_argument("payload_id")
    add_config_argument(show)
    show.set_defaults(handler=_show)

    replay = subparsers.add_parser("replay", help="push stored documents through again (needs --reason)")
    replay.add_argument(
        "mode",
        choices=[m.value for m in ReplayMode],
        help="raw: re-parse and re-map; canonical: publish again; outbound: resend to partner",
    )
    replay.add_argument("ids", nargs="*", help="payload IDs (or document IDs with --documents)")
    replay.add_argument("--documents", action="store_true", help="the IDs are canonical document IDs")
    replay.add_argument("--reason", required=True)
    replay.add_argument("--actor", default=None, help="who asks (default: the login name)")
    replay.add_argument("--renew-control-numbers", action="store_true", help="outbound: new ISA13/GS06/ST02")
    _filters(replay)
    add_config_argument(replay)
    replay.set_defaults(handler=_replay)

    sequences = subparsers.add_parser("sequences", help="the control-number sequences of what we send")
    ssub = sequences.add_subparsers(dest="sequences_command", required=True, metavar="SUBCOMMAND")
    reset = ssub.add_parser("reset", help="restart a partner's sequence at its start (needs --reason)")
    reset.add_argument("partner")
    reset.add_argument("sequence", choices=list(_KINDS), help="ISA13, GS06 or ST02")
    reset.add_argument("--reason", required=True)
    reset.add_argument("--actor", default=None, help="who asks (default: the login name)")
    reset.add_argument(
        "--force",
        action="store_true",
        help="reset a sequence that wraps (it re-issues numbers the partner has already seen)",
    )
    add_config_argument(reset)
    reset.set_defaults(handler=_reset_sequence)


#: The profile's sequence names and the store's kinds.
_KINDS = {"interchange": "isa", "group": "gs", "transaction": "st"}


def _list(args: argparse.Namespace) -> int:
    problem = _window_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2

    async def work() -> int:
        from gateway.adapters.store import open_store

        store = await open_store(settings_from(args).database_url)
        try:
            rows = await store.list_payloads(_filter(args, args.limit, args.offset))
        finally:
            await store.close()
        if args.format == "json":
            dump(rows)
            return 0
        for r in rows:
            numbers = ",".join(r.business_numbers)
            print(
                f"{r.received_at:%Y-%m-%d %H:%M:%S}  {r.id}  {r.direction.value:8} {r.channel:8} "
                f"{r.partner_id or '-':16} {r.state.value:12} {numbers} {r.reason or ''}".rstrip()
            )
        return 0

    return run_async(work)


def _show(args: argparse.Namespace) -> int:
    async def work() -> int:
        from gateway.adapters.store import open_store

        store = await open_store(settings_from(args).database_url)
        try:
            detail = await store.payload_detail(args.payload_id)
        finally:
            await store.close()
        if detail is None:
            print(f"edigate: no message {args.payload_id}", file=sys.stderr)
            return 1
        dump(detail)
        return 0

    return run_async(work)


def _replay(args: argparse.Namespace) -> int:
    mode = ReplayMode(args.mode)
    if not args.ids and not _has_filter(args):
        print("edigate: give IDs or a filter (--partner, --state, --since, ...)", file=sys.stderr)
        return 2
    problem = _window_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.documents and mode is not ReplayMode.CANONICAL:
        print(f"edigate: --documents replays canonical documents; mode {mode.value} takes payload IDs",
              file=sys.stderr)  # fmt: skip
        return 2
    actor = args.actor or getpass.getuser()

    async def work() -> int:
        from gateway.runtime import Gateway

        gateway = await Gateway.open(settings_from(args))
        try:
            request = ReplayRequest(
                mode=mode,
                reason=args.reason,
                actor=actor,
                payload_ids=tuple(args.ids) if not args.documents else (),
                document_ids=tuple(args.ids) if args.documents else (),
                filter=_filter(args, limit=500) if _has_filter(args) else None,
                renew_control_numbers=args.renew_control_numbers,
            )
            job = await gateway.replay.run(request, ProgressLines(sys.stderr))
            dump(job.summary())
            print("a running gateway picks replayed messages up from the store", file=sys.stderr)
            return 0 if not job.failed else 1
        finally:
            await gateway.stop()

    return run_async(work)


class ProgressLines:
    """Progress of a replay the CLI waits for, as lines on stderr (stdout keeps the summary).

    A line when the targets are counted, then one every ``step`` items (about twenty lines
    for a large replay, at most every 100 items), one at least every ``seconds`` while items
    are slow, and one for the last item.
    """

    def __init__(
        self, stream: TextIO, *, seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._seconds = seconds
        self._clock = clock
        self._last_done = 0
        self._last_at = clock()

    def __call__(self, job: ReplayJob) -> None:
        if job.done == 0:
            what = "documents" if job.request.mode is ReplayMode.CANONICAL else "payloads"
            self._line(f"replay {job.id} ({job.request.mode.value}): {job.total} {what} to replay")
            return
        step = min(100, max(1, job.total // 20))
        due = job.done - self._last_done >= step or self._clock() - self._last_at >= self._seconds
        if due or job.done >= job.total:
            self._line(f"replayed {job.done}/{job.total} ({job.succeeded} ok, {len(job.failed)} failed)")
            self._last_done = job.done

    def _line(self, text: str) -> None:
        print(text, file=self._stream, flush=True)
        self._last_at = self._clock()


def _reset_sequence(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        print("edigate: a reset needs a reason", file=sys.stderr)
        return 2
    actor = args.actor or getpass.getuser()

    async def work() -> int:
        from gateway.adapters.store import open_store
        from gateway.domain.profiles import load_profiles

        settings = settings_from(args)
        profile = load_profiles(settings.partners_dir).get(args.partner)
        if profile is None:
            print(f"edigate: no partner profile {args.partner!r}", file=sys.stderr)
            return 2
        sequence = getattr(profile.control_numbers, args.sequence)
        if sequence.wrap and not args.force:
            print(
                f"edigate: the {args.sequence} sequence of {args.partner} wraps, so it never stops at its"
                f" max; a reset now would send numbers from {sequence.start} again, which the partner"
                " has seen (add --force if that is what you want)",
                file=sys.stderr,
            )
            return 2
        store = await open_store(settings.database_url)
        try:
            used = await store.reset_control_sequence(
                args.partner, _KINDS[args.sequence], actor=actor, reason=args.reason
            )
        finally:
            await store.close()
        which = f"{args.partner}: the {args.sequence} sequence"
        if not used:
            print(f"{which} was never used; it starts at {sequence.start}")
        else:
            print(f"{which} restarts at {sequence.start} with the next number")
        return 0

    return run_async(work)
