"""Partner endpoints over real HTTP: list, show without secret values, validate, reload (or refuse)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.config import Role
from tests.gateway.adapters.http.helpers import REPO, bearer

Client = TestClient[Any, Any]
ONBOARDING = bearer(Role.ONBOARDING)
INVALID = REPO / "tests" / "fixtures_profiles" / "invalid"
EXAMPLE_IDS = ["acme-retail", "northwind-supply", "swift-3pl"]


async def _partner_ids(client: Client) -> tuple[int, list[str]]:
    response = await client.get("/api/v1/partners", headers=ONBOARDING)
    body = await response.json()
    return body["generation"], [item["partner_id"] for item in body["items"]]


async def test_list_partners(client: Client, partners_dir: Path) -> None:
    response = await client.get("/api/v1/partners", headers=bearer(Role.SUPPORT))
    assert response.status == 200
    body = await response.json()
    assert body["generation"] == 1
    by_id = {item["partner_id"]: item for item in body["items"]}
    assert sorted(by_id) == EXAMPLE_IDS
    acme = by_id["acme-retail"]
    assert (acme["name"], acme["environment"], acme["channels"]) == (
        "ACME Retail Corp.",
        "production",
        ["as2"],
    )
    assert "inbound 850" in acme["documents"]
    assert acme["source"] == str(partners_dir / "acme-retail.yaml")


async def test_show_partner_redacts_secrets(
    client: Client, partners_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbound_secret = "whsec-inbound-9c1d7e55aa0b"
    outbound_secret = "whsec-outbound-3f88b2c4d1e7"
    monkeypatch.setenv("SWIFT_3PL_INBOUND_SECRET", inbound_secret)
    monkeypatch.setenv("SWIFT_3PL_OUTBOUND_SECRET", outbound_secret)

    response = await client.get("/api/v1/partners/swift-3pl", headers=ONBOARDING)
    assert response.status == 200
    text = await response.text()
    assert inbound_secret not in text
    assert outbound_secret not in text
    profile = (await response.json())["profile"]
    webhook = profile["channels"]["webhook"]
    assert webhook["inbound"]["secret"] == "env:SWIFT_3PL_INBOUND_SECRET"
    assert webhook["outbound"]["secret"] == "env:SWIFT_3PL_OUTBOUND_SECRET"

    acme = await client.get("/api/v1/partners/acme-retail", headers=ONBOARDING)
    acme_text = await acme.text()
    key_file = partners_dir.parent / "deploy" / "dev-keys" / "edigate-test-as2.key"
    key_body = key_file.read_text().splitlines()[1]  # a line of the private key's base64
    assert key_body not in acme_text
    assert "PRIVATE KEY" not in acme_text
    as2 = (await acme.json())["profile"]["channels"]["as2"]
    assert as2["our_key"] == f"file:{key_file.resolve()}"

    missing = await client.get("/api/v1/partners/nobody", headers=ONBOARDING)
    assert missing.status == 404


async def test_validate_reports_problems_without_changing_the_live_set(
    client: Client, partners_dir: Path
) -> None:
    response = await client.post("/api/v1/partners/validate", headers=ONBOARDING)
    assert response.status == 200
    report = await response.json()
    assert (report["ok"], report["partners"], report["problems"]) == (True, EXAMPLE_IDS, [])

    shutil.copy(INVALID / "missing-field.yaml", partners_dir)
    report = await (await client.post("/api/v1/partners/validate", headers=ONBOARDING)).json()
    assert report["ok"] is False
    assert report["problems"] == [
        {
            "file": str(partners_dir / "missing-field.yaml"),
            "path": "name",
            "reason": "required field is missing",
        }
    ]
    assert await _partner_ids(client) == (1, EXAMPLE_IDS)


async def test_reload_makes_a_new_profile_live(client: Client, partners_dir: Path) -> None:
    text = (partners_dir / "swift-3pl.yaml").read_text()
    (partners_dir / "swift-eu.yaml").write_text(text.replace("partner_id: swift-3pl", "partner_id: swift-eu"))
    response = await client.post("/api/v1/partners/reload", headers=bearer(Role.ADMIN))
    assert response.status == 200
    body = await response.json()
    assert (body["reloaded"], body["generation"], body["problems"]) == (True, 2, [])
    assert "swift-eu" in body["partners"]
    assert await _partner_ids(client) == (2, sorted([*EXAMPLE_IDS, "swift-eu"]))
    shown = await client.get("/api/v1/partners/swift-eu", headers=ONBOARDING)
    assert (await shown.json())["generation"] == 2


async def test_reload_with_a_bad_profile_keeps_the_old_set(client: Client, partners_dir: Path) -> None:
    (partners_dir / "swift-3pl.yaml").unlink()  # would disappear if the reload went through
    shutil.copy(INVALID / "missing-field.yaml", partners_dir)
    shutil.copy(INVALID / "bad-qualifier.yaml", partners_dir)
    response = await client.post("/api/v1/partners/reload", headers=ONBOARDING)
    assert response.status == 422
    body = await response.json()
    assert (body["reloaded"], body["generation"], body["ok"]) == (False, 1, False)
    files = sorted(Path(p["file"]).name for p in body["problems"])
    assert files == ["bad-qualifier.yaml", "missing-field.yaml"]
    assert {p["path"] for p in body["problems"]} == {"name", "identity.isa_qualifier"}
    assert await _partner_ids(client) == (1, EXAMPLE_IDS)
    still = await client.get("/api/v1/partners/swift-3pl", headers=ONBOARDING)
    assert still.status == 200


async def test_partner_audit_lists_channel_events(client: Client, services: Any) -> None:
    await services.store.add_audit(
        "partner", "northwind-supply", "sftp.poll_failed", detail="connection refused"
    )
    response = await client.get("/api/v1/partners/northwind-supply/audit", headers=bearer(Role.SUPPORT))
    assert response.status == 200
    body = await response.json()
    assert body["partner_id"] == "northwind-supply"
    assert [(e["state"], e["detail"]) for e in body["events"]] == [("sftp.poll_failed", "connection refused")]
    missing = await client.get("/api/v1/partners/nobody/audit", headers=bearer(Role.SUPPORT))
    assert missing.status == 404


async def test_certificates_are_listed_with_their_expiry(client: Client) -> None:
    response = await client.get("/api/v1/certificates", headers=bearer(Role.SUPPORT))
    assert response.status == 200
    items = (await response.json())["items"]
    names = {(c["partner_id"], c["certificate"]) for c in items}
    assert ("acme-retail", "partner_certificates[0]") in names
    assert all(c["status"] in ("ok", "expiring", "expired") for c in items)
    assert [c["not_after"] for c in items] == sorted(c["not_after"] for c in items)
    for c in items:
        expected = (
            "expired" if c["expires_in_days"] <= 0 else "expiring" if c["expires_in_days"] <= 30 else "ok"
        )
        assert c["status"] == expected
