"""Control numbers issued for a partner, and the gaps among them.

Every ISA13, GS06 and ST02 we allocate is recorded with the payload that used it. A number
with no payload is a gap: issued, never sent (a crash between allocating and storing, a
concurrent duplicate that won, a redelivery racing itself). Support reads them here, newest
first, to answer a partner asking about a missing control number.
"""

from __future__ import annotations

from aiohttp import web

from gateway.adapters.http.auth import READ_PARTNERS
from gateway.adapters.http.base import API_PREFIX, SERVICES, Endpoint, Reply, model_response, parse_query
from gateway.adapters.http.schemas import ControlNumberQuery, ErrorOut, IssuedNumberList, IssuedNumberOut
from gateway.domain.runtime.errors import NotFound

__all__ = ["ENDPOINTS"]


async def list_control_numbers(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    partner_id = request.match_info["id"]
    if services.profiles.current.get(partner_id) is None:
        raise NotFound(f"no partner profile {partner_id}")
    query = parse_query(request, ControlNumberQuery)
    issued = await services.store.control_numbers(
        partner_id, kind=query.kind, unused_only=query.unused, limit=query.limit
    )
    items = [
        IssuedNumberOut(kind=n.kind, value=n.value, issued_at=n.issued_at, payload_id=n.payload_id)
        for n in issued
    ]
    return model_response(
        IssuedNumberList(
            partner_id=partner_id, gaps=sum(1 for n in issued if n.payload_id is None), items=items
        )
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        f"{API_PREFIX}/partners/{{id}}/control-numbers",
        list_control_numbers,
        "listControlNumbers",
        "Control numbers issued for a partner, newest first, each with the payload that used it",
        "partners",
        READ_PARTNERS,
        {
            200: Reply("issued numbers; payload_id null marks a gap", IssuedNumberList),
            404: Reply("no such partner", ErrorOut),
        },
        query=ControlNumberQuery,
        path_params={"id": "the partner ID"},
    ),
]
