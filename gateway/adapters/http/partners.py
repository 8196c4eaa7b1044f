"""Partner endpoints: list and show profiles (secrets as references only), validate and reload.

Validating and reloading read and check every profile file (YAML, certificates), which is
blocking file work: it runs in a worker thread, and reloads are serialised by a lock. A
reload with any problem keeps the live set and answers 422 with every problem.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from gateway.adapters.http.auth import MANAGE_PARTNERS, READ_PARTNERS
from gateway.adapters.http.base import API_PREFIX, SERVICES, Endpoint, Reply, model_response
from gateway.adapters.http.schemas import (
    AuditOut,
    CertificateList,
    CertificateOut,
    ErrorOut,
    PartnerAudit,
    PartnerDetail,
    PartnerList,
    PartnerSummary,
    ProblemOut,
    ReloadOut,
    ValidationOut,
)
from gateway.adapters.metrics import certificate_expiries
from gateway.domain.profiles import LoadResult, PartnerProfile, Problem
from gateway.domain.runtime.errors import NotFound

__all__ = ["ENDPOINTS", "EXPIRY_WARNING_DAYS", "RELOAD_LOCK"]

#: Certificates ending within this many days are reported as expiring.
EXPIRY_WARNING_DAYS = 30

RELOAD_LOCK = web.AppKey("edigate_reload_lock", asyncio.Lock)


def _summary(profile: PartnerProfile, source: str) -> PartnerSummary:
    channels = [name for name in ("as2", "sftp", "webhook") if getattr(profile.channels, name) is not None]
    return PartnerSummary(
        partner_id=profile.partner_id,
        name=profile.name,
        environment=str(profile.environment.value),
        channels=channels,
        documents=[f"{doc.direction.value} {doc.type}" for doc in profile.documents],
        source=source,
    )


def _problems(items: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut(file=str(p.file), path=p.path, reason=p.reason) for p in items]


def _report(result: LoadResult) -> ValidationOut:
    return ValidationOut(
        ok=not result.problems,
        partners=sorted(profile.partner_id for profile, _ in result.entries),
        problems=_problems(result.problems),
        warnings=_problems(result.warnings),
    )


async def list_partners(request: web.Request) -> web.StreamResponse:
    registry = request.app[SERVICES].profiles
    current = registry.current
    items = [_summary(current[pid], str(current.source(pid))) for pid in current.partner_ids]
    return model_response(PartnerList(generation=registry.generation, items=items))


async def show_partner(request: web.Request) -> web.StreamResponse:
    registry = request.app[SERVICES].profiles
    partner_id = request.match_info["id"]
    profile = registry.current.get(partner_id)
    if profile is None:
        raise NotFound(f"no partner profile {partner_id}")
    out = PartnerDetail(
        partner_id=partner_id,
        generation=registry.generation,
        source=str(registry.current.source(partner_id)),
        profile=profile.redacted(),
    )
    return model_response(out)


async def partner_audit(request: web.Request) -> web.StreamResponse:
    """Channel events recorded against the partner (SFTP logins, transfers, poll failures)."""
    services = request.app[SERVICES]
    partner_id = request.match_info["id"]
    if services.profiles.current.get(partner_id) is None:
        raise NotFound(f"no partner profile {partner_id}")
    events = await services.store.audit_trail("partner", partner_id)
    items = [
        AuditOut(state=e.state, at=e.at, detail=e.detail, actor=e.actor, reason=e.reason) for e in events
    ]
    return model_response(PartnerAudit(partner_id=partner_id, events=items))


async def list_certificates(request: web.Request) -> web.StreamResponse:
    """Every AS2 certificate in the live profiles with its expiry, soonest first."""
    now = datetime.now(UTC)
    items: list[CertificateOut] = []
    for partner_id, name, seconds in certificate_expiries(request.app[SERVICES].profiles.current, now):
        days = seconds / 86400
        status = "expired" if seconds <= 0 else "expiring" if days <= EXPIRY_WARNING_DAYS else "ok"
        items.append(
            CertificateOut(
                partner_id=partner_id,
                certificate=name,
                not_after=now + timedelta(seconds=seconds),
                expires_in_days=round(days, 2),
                status=status,
            )
        )
    items.sort(key=lambda c: c.not_after)
    return model_response(CertificateList(items=items))


async def validate_partners(request: web.Request) -> web.StreamResponse:
    registry = request.app[SERVICES].profiles
    result = await asyncio.to_thread(registry.check)
    return model_response(_report(result))


async def reload_partners(request: web.Request) -> web.StreamResponse:
    registry = request.app[SERVICES].profiles
    async with request.app[RELOAD_LOCK]:
        result = await asyncio.to_thread(registry.reload)
        generation = registry.generation
    report = _report(result)
    out = ReloadOut(**report.model_dump(), reloaded=report.ok, generation=generation)
    return model_response(out, status=200 if report.ok else 422)


ENDPOINTS = [
    Endpoint(
        "GET",
        f"{API_PREFIX}/partners",
        list_partners,
        "listPartners",
        "The live partner profiles",
        "partners",
        READ_PARTNERS,
        {200: Reply("the profiles and the live generation", PartnerList)},
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/partners/{{id}}",
        show_partner,
        "showPartner",
        "One partner profile; secrets appear as their references only",
        "partners",
        READ_PARTNERS,
        {200: Reply("the profile", PartnerDetail), 404: Reply("no such partner", ErrorOut)},
        path_params={"id": "the partner ID"},
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/partners/{{id}}/audit",
        partner_audit,
        "partnerAudit",
        "Channel events recorded against one partner: SFTP logins, transfers and poll failures",
        "partners",
        READ_PARTNERS,
        {
            200: Reply("the partner's audit trail, oldest first", PartnerAudit),
            404: Reply("no such partner", ErrorOut),
        },
        path_params={"id": "the partner ID"},
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/certificates",
        list_certificates,
        "listCertificates",
        "AS2 certificates of every partner with their expiry (expiring: within 30 days)",
        "partners",
        READ_PARTNERS,
        {200: Reply("certificates, soonest expiry first", CertificateList)},
    ),
    Endpoint(
        "POST",
        f"{API_PREFIX}/partners/validate",
        validate_partners,
        "validatePartners",
        "Check the profiles directory now, without changing the live set",
        "partners",
        MANAGE_PARTNERS,
        {
            200: Reply(
                "every problem and warning found ('ok' is false when there are problems)", ValidationOut
            )
        },
    ),
    Endpoint(
        "POST",
        f"{API_PREFIX}/partners/reload",
        reload_partners,
        "reloadPartners",
        "Load the profiles directory again and make it live, without a restart",
        "partners",
        MANAGE_PARTNERS,
        {
            200: Reply("reloaded: the new generation is live", ReloadOut),
            422: Reply("refused: every problem is listed and the previous set stays live", ReloadOut),
        },
    ),
]
