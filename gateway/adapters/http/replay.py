"""Replay endpoints: start a single or bulk replay (202 + job), follow its progress, list jobs.

The actor written to the audit trail is the name of the API token that asked.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.adapters.http.auth import READ_MESSAGES, REPLAY
from gateway.adapters.http.base import (
    API_PREFIX,
    PRINCIPAL,
    SERVICES,
    Endpoint,
    Reply,
    model_response,
    parse_body,
)
from gateway.adapters.http.schemas import ErrorOut, ReplayBody, ReplayJobList, ReplayJobOut
from gateway.domain.runtime.errors import InvalidDocument
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.replay import ReplayJob, ReplayRequest

__all__ = ["ENDPOINTS", "job_out"]


def job_out(job: ReplayJob) -> ReplayJobOut:
    return ReplayJobOut.model_validate(job.summary())


def _request(body: ReplayBody, actor: str) -> ReplayRequest:
    problems = body.selection_problems()
    if problems:
        raise InvalidDocument(
            "invalid replay request", details=[{"field": name, "error": why} for name, why in problems]
        )
    flt: MessageFilter | None = None
    if body.filter is not None:
        f = body.filter
        flt = MessageFilter(
            partner_id=f.partner,
            document_type=f.document_type,
            state=f.state,
            direction=f.direction,
            since=f.since,
            until=f.until,
            business_number=f.business_number,
            correlation_id=f.correlation_id,
            channel=f.channel,
        )
    return ReplayRequest(
        mode=body.mode,
        reason=body.reason,
        actor=actor,
        payload_ids=tuple(body.payload_ids),
        document_ids=tuple(body.document_ids),
        filter=flt,
        renew_control_numbers=body.renew_control_numbers,
    )


async def start_replay(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, ReplayBody)
    replay = _request(body, request[PRINCIPAL].name)
    job = await request.app[SERVICES].replay.start(replay)
    response = model_response(job_out(job), status=202)
    response.headers["Location"] = f"{API_PREFIX}/replays/{job.id}"
    return response


async def show_replay(request: web.Request) -> web.StreamResponse:
    summary = await request.app[SERVICES].replay.job_summary(request.match_info["id"])
    return model_response(ReplayJobOut.model_validate(summary))


async def list_replays(request: web.Request) -> web.StreamResponse:
    jobs = await request.app[SERVICES].replay.job_summaries()
    return model_response(ReplayJobList(items=[ReplayJobOut.model_validate(j) for j in jobs]))


_EXAMPLE: dict[str, Any] = {
    "mode": "raw",
    "reason": "mapping fixed for ACME 850s (ticket OPS-123)",
    "filter": {"partner": "acme-retail", "state": "failed", "since": "2025-01-01T00:00:00Z"},
}

ENDPOINTS = [
    Endpoint(
        "POST",
        f"{API_PREFIX}/replays",
        start_replay,
        "startReplay",
        "Replay stored messages (raw, canonical or outbound), one or many",
        "replays",
        REPLAY,
        {
            202: Reply(
                "the replay job, started in the background", ReplayJobOut, headers={"Location": "the job"}
            ),
            422: Reply("invalid request; details name each invalid field", ErrorOut),
        },
        body=ReplayBody,
        description="Select payloads by ID, documents by ID (canonical mode) or a filter; a filter needs at "
        "least one criterion (an empty one would replay everything, and is refused). "
        "The reason is required and, with the token's name as actor, goes to the audit trail. "
        "Items that cannot be replayed (unknown ID, wrong direction) are listed in the job's 'failed'. "
        f"Example body: {_EXAMPLE}",
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/replays",
        list_replays,
        "listReplays",
        "Replay jobs of every instance (kept in the store), newest first",
        "replays",
        READ_MESSAGES,
        {200: Reply("the jobs", ReplayJobList)},
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/replays/{{id}}",
        show_replay,
        "showReplay",
        "A replay job's progress and summary",
        "replays",
        READ_MESSAGES,
        {200: Reply("the job", ReplayJobOut), 404: Reply("no such job", ErrorOut)},
        path_params={"id": "the replay job ID"},
    ),
]
