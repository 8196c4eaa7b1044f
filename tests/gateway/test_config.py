"""Settings from one YAML file plus ``EDIGATE_*`` environment variables, with their precedence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from gateway.config import Role, load_settings

SITE = {
    "database_url": "postgresql://edigate:secret@db.internal:5432/edigate",
    "amqp_url": "amqp://edigate:secret@mq.internal:5672/",
    "partners_dir": "/etc/edigate/partners",
    "destinations": ["erp", "wms", "billing"],
    "listen": {
        "host": "0.0.0.0",
        "port": 8443,
        "tls_cert": "/etc/edigate/tls.pem",
        "tls_key": "file:/run/key.pem",
    },
    "rabbit": {"exchange": "acme.documents", "prefetch": 32},
    "pipeline": {"workers": 3, "batch_size": 128, "max_attempts": 7},
    "channels": {"sftp_server": True, "send_via_partner_channels": True},
    "api_tokens": [{"name": "ops", "role": "support", "token": "env:EDIGATE_OPS_TOKEN"}],
    "instance_id": "gw-a",
}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("EDIGATE_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "edigate.yaml"
    path.write_text(yaml.safe_dump(SITE))
    return path


def test_a_yaml_file_sets_every_section(config: Path) -> None:
    settings = load_settings(config)
    assert settings.database_url == SITE["database_url"]
    assert settings.amqp_url == SITE["amqp_url"]
    assert settings.partners_dir == Path("/etc/edigate/partners")
    assert settings.destinations == ["erp", "wms", "billing"]
    assert (settings.listen.host, settings.listen.port, settings.listen.tls_cert) == (
        "0.0.0.0",
        8443,
        Path("/etc/edigate/tls.pem"),
    )
    assert settings.listen.tls_key is not None
    assert (settings.listen.tls_key.kind, settings.listen.tls_key.target) == ("file", "/run/key.pem")
    assert (settings.rabbit.exchange, settings.rabbit.prefetch, settings.rabbit.outbound_queue) == (
        "acme.documents",
        32,
        "edigate.outbound",  # unset keys keep their defaults
    )
    assert (settings.pipeline.workers, settings.pipeline.batch_size, settings.pipeline.max_attempts) == (
        3,
        128,
        7,
    )
    assert settings.channels.sftp_server
    assert settings.channels.send_via_partner_channels
    [token] = settings.api_tokens
    assert (token.name, token.role, token.token.kind, token.token.target) == (
        "ops",
        Role.SUPPORT,
        "env",
        "EDIGATE_OPS_TOKEN",
    )
    banner = "\n".join(settings.banner())
    assert "secret" not in banner  # passwords in URLs never reach the banner


def test_environment_variables_override_the_file_and_keywords_override_both(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDIGATE_CONFIG", str(config))  # the file named by the environment
    monkeypatch.setenv("EDIGATE_PIPELINE__WORKERS", "5")
    monkeypatch.setenv("EDIGATE_LISTEN__PORT", "9000")
    monkeypatch.setenv("EDIGATE_INSTANCE_ID", "gw-b")
    settings = load_settings()
    assert (settings.pipeline.workers, settings.pipeline.batch_size) == (5, 128)  # nested keys merge
    assert (settings.listen.port, settings.listen.host) == (9000, "0.0.0.0")
    assert settings.instance_id == "gw-b"
    assert settings.database_url == SITE["database_url"]
    assert load_settings(instance_id="gw-c").instance_id == "gw-c"


def test_mistakes_in_the_file_are_refused_with_the_field(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**SITE, "pipline": {"workers": 2}}))
    with pytest.raises(ValidationError, match="pipline"):
        load_settings(bad)
    inline = tmp_path / "inline.yaml"
    inline.write_text(yaml.safe_dump({"api_tokens": [{"name": "ops", "role": "admin", "token": "hunter2"}]}))
    with pytest.raises(ValidationError, match="api_tokens"):
        load_settings(inline)  # secrets are referenced (env: or file:), never inline
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump({"destinations": ["ERP"]}))
    with pytest.raises(ValidationError, match="lowercase identifier"):
        load_settings(wrong)


def test_without_a_file_the_embedded_defaults_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("EDIGATE_")]:
        monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/edigate.db"
    assert settings.amqp_url is None
    assert settings.spool_dir == Path("var/spool")


@pytest.mark.parametrize(("cores", "expected"), [(1, 0), (2, 1), (16, 1), (None, 0)])
def test_serve_runs_one_analysis_process_where_there_are_cores_to_spare(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, expected: int
) -> None:
    from gateway.config import serving_defaults

    monkeypatch.delenv("EDIGATE_PIPELINE__ANALYSIS_PROCESSES", raising=False)
    import gateway.config

    monkeypatch.setattr(gateway.config, "_usable_cores", lambda: cores)
    settings = load_settings()
    assert settings.pipeline.analysis_processes == 0  # an embedded gateway (Gateway.open) runs none
    served = serving_defaults(settings)
    assert served.pipeline.analysis_processes == expected
    assert served.pipeline.workers == settings.pipeline.workers  # nothing else changes
    which = f"{expected} process" if expected else "a thread of this process"
    assert f"analysis      {which} (pipeline.analysis_processes)" in served.banner()


@pytest.mark.parametrize("source", ["file", "environment"])
@pytest.mark.parametrize("value", [0, 3])
def test_serve_keeps_an_analysis_process_count_that_was_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str, value: int
) -> None:
    from gateway.config import serving_defaults

    monkeypatch.delenv("EDIGATE_PIPELINE__ANALYSIS_PROCESSES", raising=False)
    import gateway.config

    monkeypatch.setattr(gateway.config, "_usable_cores", lambda: 8)
    config = tmp_path / "edigate.yaml"
    if source == "file":
        config.write_text(yaml.safe_dump({"pipeline": {"analysis_processes": value}}))
    else:
        config.write_text(yaml.safe_dump({"pipeline": {"workers": 3}}))
        monkeypatch.setenv("EDIGATE_PIPELINE__ANALYSIS_PROCESSES", str(value))
    assert serving_defaults(load_settings(config)).pipeline.analysis_processes == value


def test_cores_are_those_this_process_may_use() -> None:
    from gateway.config import _usable_cores

    assert _usable_cores() == len(os.sched_getaffinity(0))  # a cpuset, not the host's count
