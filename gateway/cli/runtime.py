"""``edigate serve``, ``edigate ingest`` and ``edigate db upgrade``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.common import add_config_argument, dump, run_async, settings_from
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway (HTTP, pipeline, routing, channels)")
    add_config_argument(serve)
    serve.set_defaults(handler=_serve)

    ingest = subparsers.add_parser("ingest", help="put a file into the inbound pipeline by hand")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--partner", required=True, help="partner ID the file comes from")
    ingest.add_argument("--type", dest="document_type", help="document type for JSON files, e.g. po_json")
    ingest.add_argument(
        "--no-process", action="store_true", help="only store it; a running gateway processes it"
    )
    add_config_argument(ingest)
    ingest.set_defaults(handler=_ingest)

    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the latest revision")
    add_config_argument(upgrade)
    upgrade.set_defaults(handler=_upgrade)


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import serve
    from gateway.config import serving_defaults

    return run_async(lambda: serve(serving_defaults(settings_from(args))))


def _ingest(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        content = path.read_bytes()
    except OSError as exc:
        print(f"edigate: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2

    async def work() -> int:
        from gateway.runtime import Gateway

        gateway = await Gateway.open(settings_from(args))
        try:
            if args.partner not in gateway.registry.current:
                print(f"edigate: unknown partner {args.partner!r}", file=sys.stderr)
                return 2
            meta = ChannelMeta("cli", args.partner, filename=path.name, document_type=args.document_type)
            outcome = await gateway.receive(content, meta)
            summary: dict[str, object] = {"payload_id": outcome.record.id, "stored": outcome.created}
            if args.no_process:
                dump(summary)
                return 0
            await gateway.destination.start()
            result = await gateway.process_now(outcome.record.id)
            if result is not None:
                summary.update(
                    state=result.state.value,
                    reason=result.reason,
                    step=result.failed_step,
                    documents=[d.id for d in result.documents],
                    acks=len(result.outbound),
                )
                summary["pending_in_outbox"] = await gateway.flush_outbox()
                await gateway.send_pending()
            dump(summary)
            return 1 if result is not None and result.state in (State.FAILED, State.REJECTED) else 0
        finally:
            await gateway.stop()

    return run_async(work)


def _upgrade(args: argparse.Namespace) -> int:
    async def work() -> int:
        from gateway.adapters.store import open_store

        settings = settings_from(args)
        store = await open_store(settings.database_url)
        await store.close()
        print("database is at the latest revision")
        return 0

    return run_async(work)
