"""The admin API's wire shapes: query strings, request bodies and responses, as pydantic models.

Handlers parse requests and render responses through these models, and the OpenAPI document
is generated from the same models, so the document describes what the code really accepts
and returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.usecases.replay import ReplayMode

__all__ = [
    "AuditOut",
    "ControlNumberQuery",
    "DestinationOut",
    "DocumentOut",
    "EnvelopeOut",
    "ErrorOut",
    "HealthOut",
    "IssuedNumberList",
    "IssuedNumberOut",
    "LoopOut",
    "MessageDetail",
    "MessageFilterIn",
    "MessageOut",
    "MessagePage",
    "MessageQuery",
    "OverdueList",
    "OverdueOut",
    "PartnerDetail",
    "PartnerList",
    "PartnerSummary",
    "ProblemOut",
    "ReadinessOut",
    "ReloadOut",
    "ReplayBody",
    "ReplayJobList",
    "ReplayJobOut",
    "ValidationOut",
]

MAX_PAGE = 500


def _utc(value: datetime | None) -> datetime | None:
    """ISO 8601 times without an offset are read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


Instant = Annotated[datetime, AfterValidator(_utc)]
Text = Annotated[str, Field(min_length=1, max_length=255)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageFilterIn(_In):
    """Which stored messages: every given criterion must match."""

    partner: Text | None = None
    document_type: Text | None = Field(
        None,
        description="canonical type (purchase_order) or X12 set ID (850): matches payloads whose documents "
        "or transaction sets have it, so also those that failed before becoming a document",
    )
    state: State | None = None
    direction: Direction | None = None
    channel: Text | None = None
    since: Instant | None = Field(None, description="received at or after (ISO 8601; UTC without an offset)")
    until: Instant | None = Field(None, description="received before (ISO 8601; UTC without an offset)")
    business_number: Text | None = Field(
        None, description="a business number (PO, invoice, ...) or an ISA13/GS06/ST02/AS2 Message-ID"
    )
    correlation_id: Text | None = None

    @field_validator("until")
    @classmethod
    def _window(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and since >= value:
            raise ValueError("until must be after since")
        return value

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) is not None for name in type(self).model_fields)


class MessageQuery(MessageFilterIn):
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0)


class MessageOut(BaseModel):
    id: str
    received_at: datetime
    direction: Direction
    channel: str
    partner_id: str | None
    state: State
    size: int
    sha256: str
    correlation_id: str
    filename: str | None = None
    content_type: str | None = None
    document_type: str | None = None
    reason: str | None = None
    failed_step: Step | None = None
    duplicate_of: str | None = None
    replay_count: int = 0


class MessagePage(BaseModel):
    items: list[MessageOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class AuditOut(BaseModel):
    state: str
    at: datetime
    detail: str | None = None
    actor: str | None = None
    reason: str | None = None


class DocumentOut(BaseModel):
    id: str
    document_type: str
    direction: str
    business_number: str | None
    state: str
    schema_version: str
    replay_count: int
    reason: str | None = None
    failed_step: str | None = None
    audit: list[AuditOut]


class EnvelopeOut(BaseModel):
    interchange: int
    isa13: str
    sender: str
    receiver: str
    group: int
    gs06: str
    functional_id: str
    ack_kind: str | None = None
    ack_status: str | None = None
    ack_due_at: datetime | None = None
    set: int
    set_id: str
    st02: str
    valid: bool
    state: str
    document_id: str | None = None
    direction: str | None = None
    group_state: str | None = None
    interchange_state: str | None = None


class MessageDetail(MessageOut):
    business_numbers: list[str]
    meta: dict[str, Any]
    findings: list[dict[str, Any]]
    envelopes: list[EnvelopeOut]
    documents: list[DocumentOut]
    audit: list[AuditOut]


class ReplayBody(_In):
    mode: ReplayMode
    reason: str = Field(min_length=1, max_length=1000, description="why; written to the audit trail")
    payload_ids: list[Text] = Field(default_factory=list, max_length=10_000)
    document_ids: list[Text] = Field(default_factory=list, max_length=10_000)
    filter: MessageFilterIn | None = Field(None, description="replay every stored payload that matches")
    renew_control_numbers: bool = Field(False, description="outbound mode: new ISA13/GS06/ST02")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    def selection_problems(self) -> list[tuple[str, str]]:
        """(field, reason) for a selection that is empty, unbounded or does not suit the mode."""
        problems: list[tuple[str, str]] = []
        if self.filter is not None and self.filter.empty:
            problems.append(
                ("filter", "needs at least one criterion (an empty filter would replay everything)")
            )
        elif not (self.payload_ids or self.document_ids or self.filter):
            problems.append(("payload_ids", "say what to replay: payload_ids, document_ids or filter"))
        if self.document_ids and self.mode is not ReplayMode.CANONICAL:
            problems.append(("document_ids", "only mode 'canonical' replays documents"))
        return problems


class ReplayFailure(BaseModel):
    id: str
    error: str


class ReplayJobOut(BaseModel):
    id: str
    mode: ReplayMode
    reason: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    running: bool
    #: not finished, and its instance stopped saving it (stopped or crashed) for over a minute
    interrupted: bool = False
    total: int
    done: int
    succeeded: int
    failed: list[ReplayFailure]


class ReplayJobList(BaseModel):
    items: list[ReplayJobOut]


class OverdueOut(BaseModel):
    group_id: int
    payload_id: str
    partner_id: str
    isa13: str
    gs06: str
    functional_id: str
    ack_kind: str
    ack_status: str
    ack_due_at: datetime | None
    st02s: list[str]


class OverdueList(BaseModel):
    items: list[OverdueOut]


class PartnerSummary(BaseModel):
    partner_id: str
    name: str
    environment: str
    channels: list[str]
    documents: list[str] = Field(description="'<direction> <type>' for each agreed document")
    source: str


class PartnerList(BaseModel):
    generation: int
    items: list[PartnerSummary]


class PartnerDetail(BaseModel):
    partner_id: str
    generation: int
    source: str
    profile: dict[str, Any] = Field(description="the profile; secrets appear as references only")


class PartnerAudit(BaseModel):
    partner_id: str
    events: list[AuditOut]


class CertificateOut(BaseModel):
    partner_id: str
    certificate: str  # its place in the profile, e.g. "partner_certificates[1]"
    not_after: datetime
    expires_in_days: float
    status: str  # ok | expiring (within 30 days) | expired


class CertificateList(BaseModel):
    items: list[CertificateOut]


class ProblemOut(BaseModel):
    file: str
    path: str
    reason: str


class ValidationOut(BaseModel):
    ok: bool
    partners: list[str]
    problems: list[ProblemOut]
    warnings: list[ProblemOut]


class ReloadOut(ValidationOut):
    reloaded: bool
    generation: int = Field(description="the live generation: the new one, or the old one when refused")


class ErrorOut(BaseModel):
    error: str
    message: str
    status: int
    correlation_id: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)


class HealthOut(BaseModel):
    status: str


class DestinationOut(BaseModel):
    ready: bool
    detail: str = ""


class ControlNumberQuery(_In):
    kind: Literal["isa", "gs", "st"] | None = Field(None, description="ISA13, GS06 or ST02; default: all")
    unused: bool = Field(False, description="only the gaps: numbers issued that no payload used")
    limit: int = Field(100, ge=1, le=1000)


class IssuedNumberOut(BaseModel):
    kind: str = Field(description="isa (ISA13), gs (GS06) or st (ST02)")
    value: int
    issued_at: datetime
    payload_id: str | None = Field(description="the payload that used it; null: a gap")


class IssuedNumberList(BaseModel):
    partner_id: str
    gaps: int = Field(description="how many of the listed numbers no payload used")
    items: list[IssuedNumberOut]


class LoopOut(BaseModel):
    ok: bool = Field(description="false once the loop failed several rounds in a row")
    failures: int = Field(description="consecutive failed rounds (0: the last round succeeded)")
    detail: str = ""


class ReadinessOut(BaseModel):
    ready: bool
    store: str
    outbox_backlog: int | None
    destinations: dict[str, DestinationOut]
    loops: dict[str, LoopOut] = Field(default_factory=dict)
    reasons: list[str]
