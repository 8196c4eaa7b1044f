"""Gateway configuration: one YAML file plus ``EDIGATE_*`` environment variables.

Precedence (highest first): keyword arguments, environment variables
(``EDIGATE_DATABASE_URL``, nested with ``__`` as in ``EDIGATE_LISTEN__PORT``), the YAML
file (``--config`` or ``EDIGATE_CONFIG``), then the embedded defaults: SQLite under
``var/``, no broker, destinations written as files to ``var/spool``.

API tokens are given by reference (``env:NAME`` / ``file:PATH``), never inline.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from gateway.domain.profiles import SecretRef

__all__ = [
    "ApiToken",
    "ListenSettings",
    "PipelineSettings",
    "RabbitSettings",
    "Role",
    "Settings",
    "load_settings",
]


class Role(StrEnum):
    SUPPORT = "support"  # reads and replays
    ONBOARDING = "onboarding"  # manages profiles
    ADMIN = "admin"  # everything


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiToken(_Section):
    name: str = Field(min_length=1, max_length=64)
    role: Role
    token: SecretRef


class OurIdentity(_Section):
    """Who we are on the wire when we send X12 (ISA06/GS02); partners' IDs live in their profiles."""

    isa_qualifier: str = Field("ZZ", min_length=2, max_length=2)
    isa_id: str = Field("EDIGATE", min_length=1, max_length=15)
    gs_id: str = Field("EDIGATE", min_length=2, max_length=15)


class ChannelSettings(_Section):
    """Which partner channels this instance runs.

    The embedded default listens for AS2 and webhooks on the listen address but sends every
    outbound payload to the file-drop directory, and neither runs the SFTP server nor polls
    partners: nothing leaves the machine until an operator turns partner channels on.
    """

    as2: bool = True  # POST /as2 and /as2/mdn
    webhook: bool = True  # POST /webhooks/{partner}/{type}
    sftp_server: bool = False  # our SFTP server for push-mode partners (see `sftp`)
    sftp_poll: bool = False  # poll partners' SFTP servers on their schedules
    send_via_partner_channels: bool = False  # False: outbound goes to the file-drop directory


class ListenSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    tls_cert: Path | None = None  # PEM certificate chain for HTTPS
    tls_key: SecretRef | None = None  # the private key, by reference


class RabbitSettings(_Section):
    exchange: str = "edigate.documents"
    dead_letter_exchange: str = "edigate.dlx"
    dead_letter_queue: str = "edigate.dead-letter"
    outbound_queue: str = "edigate.outbound"
    queue_prefix: str = "edigate."
    prefetch: int = Field(64, ge=1)


class PipelineSettings(_Section):
    workers: int = Field(2, ge=1, le=64)
    #: Payloads a pipeline worker (and the sender) leases at once; bigger batches cost less per
    #: document under load (fewer statements and transactions), a small load is taken as it comes.
    batch_size: int = Field(256, ge=1, le=1000)
    #: A pipeline batch also stops at this many bytes of payloads (a bigger payload goes alone):
    #: a batch is read, parsed and held in memory at once.
    batch_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    #: Processes that parse, validate and map beside the event loop (0: a thread of the gateway's
    #: own process). On a machine with cores to spare, 1 or 2 take that CPU work off the loop.
    #: Left unset, ``edigate serve`` runs one on a machine with two or more cores
    #: (:func:`serving_defaults`); a gateway embedded with ``Gateway.open`` runs none.
    analysis_processes: int = Field(0, ge=0, le=64)
    lease_seconds: float = Field(60.0, gt=0)
    poll_seconds: float = Field(0.5, gt=0)
    #: Sends per outbound payload before it fails (channels stop earlier at their profile's retry limit).
    max_attempts: int = Field(20, ge=1)
    retry_backoff_seconds: float = Field(5.0, ge=0)
    ack_scan_seconds: float = Field(60.0, gt=0)
    max_payload_bytes: int = Field(100 * 1024 * 1024, ge=1024)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EDIGATE_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    config_file: Path | None = Field(None, exclude=True)
    database_url: str = "sqlite:///var/edigate.db"
    amqp_url: str | None = None
    partners_dir: Path = Path("partners")
    mappings_dir: Path = Path("mappings")
    var_dir: Path = Path("var")
    spool_dir: Path = Path("var/spool")
    filedrop_dir: Path = Path("var/filedrop")
    destinations: list[str] = Field(default_factory=lambda: ["erp", "wms"])
    channels: ChannelSettings = Field(default_factory=lambda: ChannelSettings())
    #: Overrides for the SFTP adapter's settings (host, port, limits); checked when the gateway starts.
    sftp: dict[str, Any] = Field(default_factory=dict)
    identity: OurIdentity = Field(default_factory=lambda: OurIdentity())
    listen: ListenSettings = Field(default_factory=lambda: ListenSettings())
    rabbit: RabbitSettings = Field(default_factory=lambda: RabbitSettings())
    pipeline: PipelineSettings = Field(default_factory=lambda: PipelineSettings())
    api_tokens: list[ApiToken] = Field(default_factory=list)
    instance_id: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")
    log_level: str = "INFO"
    auto_migrate: bool = True

    @field_validator("destinations")
    @classmethod
    def _destinations(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.isidentifier() or name != name.lower():
                raise ValueError(f"destination {name!r} must be a lowercase identifier")
        if len(set(value)) != len(value):
            raise ValueError("destinations must be unique")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path(init_settings)
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    def banner(self) -> list[str]:
        """What goes where, for the start-up banner. Never contains a secret."""
        scheme = "https" if self.listen.tls_cert else "http"
        lines = [
            f"listening     {scheme}://{self.listen.host}:{self.listen.port}",
            f"store         {_redact_url(self.database_url)}",
            f"partners      {self.partners_dir.resolve()}",
        ]
        if self.amqp_url:
            lines.append(
                f"destinations  RabbitMQ {_redact_url(self.amqp_url)} exchange {self.rabbit.exchange}"
            )
            lines.append(f"outbound in   queue {self.rabbit.outbound_queue}")
        else:
            lines.append(
                f"destinations  files under {self.spool_dir.resolve()}/<{'|'.join(self.destinations)}>"
            )
            lines.append(f"outbound in   files dropped in {self.spool_dir.resolve()}/outbound")
        lines.append(f"partner files {self.filedrop_dir.resolve()}/<partner>/ (file-drop channel)")
        c = self.channels
        on = [
            name
            for name, enabled in (
                ("as2", c.as2),
                ("webhook", c.webhook),
                ("sftp-server", c.sftp_server),
                ("sftp-poll", c.sftp_poll),
            )
            if enabled
        ]
        lines.append(
            f"channels      {', '.join(on) or 'none'}; outbound via "
            f"{'partner channels' if c.send_via_partner_channels else 'the file-drop directory'}"
        )
        n = self.pipeline.analysis_processes
        where = f"{n} process{'es' if n > 1 else ''}" if n else "a thread of this process"
        lines.append(f"analysis      {where} (pipeline.analysis_processes)")
        return lines


def _config_path(init_settings: PydanticBaseSettingsSource) -> Path | None:
    explicit: Any = init_settings().get("config_file")
    value = explicit or os.environ.get("EDIGATE_CONFIG")
    return Path(value) if value else None


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL (e.g. amqp://): strip any password by hand
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}"
        return url


def serving_defaults(settings: Settings, cores: int | None = None) -> Settings:
    """What ``edigate serve`` runs with where the configuration is silent.

    ``pipeline.analysis_processes``: one process on a machine with two or more cores (parse,
    validate and map then run beside the event loop instead of under its GIL; 20-40% more
    documents per second in ``scripts/bench pipeline`` on two cores), none on one core. Cores
    are those the process may use (its CPU affinity). Only the command applies this (in
    ``gateway.cli.runtime``): processes are spawned, and a script embedding a gateway would
    need the ``if __name__ == "__main__":`` guard. A value given in the file or the
    environment, 0 included, is kept.
    """
    pipeline = settings.pipeline
    if "analysis_processes" in pipeline.model_fields_set:
        return settings
    count = _usable_cores() if cores is None else cores
    processes = 1 if (count or 1) >= 2 else 0
    chosen = pipeline.model_copy(update={"analysis_processes": processes})
    return settings.model_copy(update={"pipeline": chosen})


def _usable_cores() -> int | None:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset), or the
    machine's count where affinity is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    if config_file is not None:
        overrides["config_file"] = config_file
    return Settings(**overrides)
