"""``POST /webhooks/{partner_id}/{document_type}`` over real HTTP, against a real gateway (SQLite, spool)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from gateway.adapters.webhook import sign
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway

from .conftest import INBOUND_SECRET, MAX_BODY, SHIPMENT, Endpoint


def _spooled(gateway: Gateway, destination: str) -> list[dict[str, Any]]:
    folder = Path(gateway.settings.spool_dir) / destination
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


async def _inbound(gateway: Gateway) -> list[Any]:
    return await gateway.store.list_payloads(MessageFilter(direction=Direction.INBOUND, limit=100))


def _invalid_shipment() -> bytes:
    data = json.loads(SHIPMENT)
    del data["data"]["shipmentId"]
    data["data"]["shippedAt"] = "yesterday"
    data["data"]["carrier"]["scac"] = {"code": "UPS"}
    data["data"]["packages"][0]["trackingNumber"] = ["1Z999AA10123456784"]
    return json.dumps(data).encode()


async def test_signed_shipment_is_stored_answered_202_and_routed_to_wms_and_erp(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    status, body, _headers = await endpoint.post(SHIPMENT)
    assert status == 202, body
    assert body["status"] == "accepted"
    assert (body["partner_id"], body["document_type"]) == ("swift-3pl", "shipment_confirmation_json")
    message_id = body["message_id"]
    record = await gateway.store.get_payload(message_id)
    assert record is not None
    assert (record.state, record.channel, record.partner_id) == (State.RECEIVED, "webhook", "swift-3pl")
    assert record.meta["document_type"] == "shipment_confirmation_json"
    assert await gateway.store.payload_content(message_id) == SHIPMENT
    assert "x-edigate-signature" not in record.meta["headers"]
    assert record.meta["headers"]["x-edigate-timestamp"].isdigit()

    await gateway.start()  # the real workers: pipeline, outbox relay, sender
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        final = await gateway.store.get_payload(message_id)
        if final is not None and final.state is State.DELIVERED:
            break
        await asyncio.sleep(0.05)
    assert final is not None
    assert final.state is State.DELIVERED, final
    [wms] = _spooled(gateway, "wms")
    [erp] = _spooled(gateway, "erp")
    assert wms["routing_key"] == "wms.shipment_confirmation.swift-3pl"
    assert erp["routing_key"] == "erp.shipment_confirmation.swift-3pl"
    assert wms["message_id"] == erp["message_id"]
    canonical = wms["body"]
    assert canonical["header"]["raw_document_id"] == message_id
    assert canonical["header"]["source_channel"] == "webhook"
    assert canonical["confirmation_id"] == "SWL-20261120-0042"


async def test_wrong_secret_is_401_and_nothing_is_stored_as_the_partners(
    endpoint: Endpoint, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="edigate.webhook"):
        status, body, _ = await endpoint.post(SHIPMENT, secret="not-the-secret")
    assert status == 401
    assert body["error"] == "AuthenticationFailed"
    assert "no signature matches" in body["message"]
    assert "message_id" not in body  # nothing was stored that support could replay as the partner's
    assert await _inbound(gateway) == []
    [line] = [r for r in caplog.records if r.getMessage().startswith("webhook signature refused")]
    assert (line.partner_id, line.size) == ("swift-3pl", len(SHIPMENT))  # type: ignore[attr-defined]
    assert len(line.sha256_prefix) == 16  # type: ignore[attr-defined]
    assert b"SWL-20261120" not in json.dumps(line.__dict__, default=str).encode()  # not the body


async def test_missing_signature_headers_are_401(endpoint: Endpoint) -> None:
    async with endpoint.session.post(endpoint.url(), data=SHIPMENT) as response:
        assert response.status == 401
        assert "X-Edigate-Timestamp header is missing" in (await response.json())["message"]
    status, body, _ = await endpoint.post(SHIPMENT, headers={"X-Edigate-Signature": ""})
    assert status == 401
    assert "X-Edigate-Signature header is missing" in body["message"]
    status, body, _ = await endpoint.post(SHIPMENT, headers={"X-Edigate-Signature": "v0=abc"})
    assert status == 401
    assert "no 'v1=<hex>' signature" in body["message"]


async def test_a_stale_timestamp_is_401_even_when_correctly_signed(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    status, body, _ = await endpoint.post(SHIPMENT, timestamp=time.time() - 301 - 5)
    assert status == 401
    assert "s in the past; the allowed window is 300 s" in body["message"]
    status, body, _ = await endpoint.post(SHIPMENT, timestamp=time.time() + 400)
    assert status == 401
    assert "in the future" in body["message"]
    assert await _inbound(gateway) == []


async def test_the_timestamp_window_comes_from_the_profile(
    endpoint: Endpoint, gateway: Gateway, partners_dir: Path
) -> None:
    path = partners_dir / "swift-3pl.yaml"
    profile = yaml.safe_load(path.read_text())
    profile["channels"]["webhook"]["inbound"]["timestamp_tolerance_seconds"] = 30
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    assert gateway.registry.reload().problems == []
    status, body, _ = await endpoint.post(SHIPMENT, timestamp=time.time() - 45)  # fine with 300 s
    assert status == 401
    assert "the allowed window is 30 s" in body["message"]
    status, body, _ = await endpoint.post(SHIPMENT, timestamp=time.time() + 45)
    assert status == 401
    status, body, _ = await endpoint.post(SHIPMENT, timestamp=time.time() - 20)
    assert status == 202, body


async def test_the_request_correlation_id_is_stored_with_the_payload(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    status, body, _ = await endpoint.post(SHIPMENT, headers={"X-Correlation-ID": "swift-trace-7f3a"})
    assert status == 202, body
    assert body["correlation_id"] == "swift-trace-7f3a"
    record = await gateway.store.get_payload(body["message_id"])
    assert record is not None
    assert record.correlation_id == "swift-trace-7f3a"
    assert record.meta["correlation_id"] == "swift-trace-7f3a"
    other = SHIPMENT.replace(b"WO-55812", b"WO-55899")
    status, body, _ = await endpoint.post(other, headers={"X-Correlation-ID": "not a sane id; DROP"})
    assert status == 202, body
    assert body["correlation_id"] == body["message_id"]  # an unusable header: the store's default
    third = SHIPMENT.replace(b"WO-55812", b"WO-55900")
    status, body, _ = await endpoint.post(third, headers={"X-Correlation-ID": "t" * 65})
    assert status == 202, body  # wider than the store's column: replaced, not stored to fail the batch
    assert body["correlation_id"] == body["message_id"]


async def test_several_signatures_are_accepted_while_a_secret_is_rotated(endpoint: Endpoint) -> None:
    stamp = str(int(time.time()))
    old = sign(b"the-old-secret", stamp, SHIPMENT)
    new = sign(INBOUND_SECRET.encode(), stamp, SHIPMENT)
    header = f"v1={old}, v1={new}"
    status, body, _ = await endpoint.post(
        SHIPMENT, headers={"X-Edigate-Timestamp": stamp, "X-Edigate-Signature": header}
    )
    assert status == 202, body


async def test_an_idempotent_retry_gets_the_same_answer_and_stores_nothing_new(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    first = await endpoint.post(SHIPMENT, key="swift-evt-0001")
    again = await endpoint.post(SHIPMENT, key="swift-evt-0001")
    assert first[0] == again[0] == 202
    assert first[1] == again[1]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first[2]
    assert [r.id for r in await _inbound(gateway)] == [first[1]["message_id"]]
    status, body, _ = await endpoint.post(SHIPMENT.replace(b"WO-55812", b"WO-55813"), key="swift-evt-0001")
    assert status == 422
    assert body["error"] == "IdempotencyKeyReused"
    assert body["message_id"] == first[1]["message_id"]
    assert len(await _inbound(gateway)) == 1


async def test_concurrent_repeats_of_a_key_store_one_payload(endpoint: Endpoint, gateway: Gateway) -> None:
    answers = await asyncio.gather(*(endpoint.post(SHIPMENT, key="swift-evt-race") for _ in range(5)))
    assert {status for status, _, _ in answers} == {202}
    assert len({body["message_id"] for _, body, _ in answers}) == 1
    assert len(await _inbound(gateway)) == 1


async def test_an_idempotent_retry_of_a_refused_body_gets_the_same_422(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    first = await endpoint.post(_invalid_shipment(), key="swift-evt-0002")
    again = await endpoint.post(_invalid_shipment(), key="swift-evt-0002")
    assert first[0] == again[0] == 422
    assert first[1] == again[1]
    assert len(await _inbound(gateway)) == 1


async def test_a_body_over_the_profile_limit_is_413_and_not_kept(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    big = json.dumps({"data": {"pad": "x" * MAX_BODY}}).encode()
    status, body, _headers = await endpoint.post(big)
    assert status == 413
    assert body["error"] == "PayloadTooLarge"
    assert f"limit of {MAX_BODY} bytes" in body["message"]

    async def chunked() -> Any:  # no Content-Length: the limit is enforced while reading
        for _ in range(4):
            yield b" " * 4096

    async with aiohttp.ClientSession() as fresh, fresh.post(endpoint.url(), data=chunked()) as response:
        assert response.status == 413
    assert await _inbound(gateway) == []


async def test_a_body_that_is_not_json_is_400_and_kept_for_support(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    status, body, _ = await endpoint.post(b'{"data": {"shipmentId": ')
    assert status == 400
    assert body["error"] == "InvalidJson"
    assert body["message"].startswith("the body is not JSON")
    [detail] = body["details"]
    assert (detail["path"], detail["pointer"]) == ("<document>", "")
    assert detail["reason"].startswith("the body is not JSON: Expecting value: line 1 column 25")
    record = await gateway.store.get_payload(body["message_id"])
    assert record is not None
    assert record.state is State.REJECTED
    assert (record.reason or "").startswith("webhook 400 InvalidJson: the body is not JSON")


async def test_invalid_fields_are_422_naming_each_path_and_the_body_can_be_replayed(
    endpoint: Endpoint, gateway: Gateway
) -> None:
    bad = _invalid_shipment()
    status, body, _ = await endpoint.post(bad)
    assert status == 422
    assert body["error"] == "InvalidFields"
    assert body["complete"] is True
    assert [(d["path"], d["reason"]) for d in body["details"]] == [
        ("data.shipmentId", "is missing"),
        ("data.shippedAt", "'yesterday': is not an ISO 8601 date and time"),
        ("data.carrier.scac", "{'code': 'UPS'}: must be a string"),
        ("data.packages.0.trackingNumber", "['1Z999AA10123456784']: must be a string"),
    ]
    assert body["details"][3]["pointer"] == "/data/packages/0/trackingNumber"
    record = await gateway.store.get_payload(body["message_id"])
    assert record is not None
    assert record.state is State.REJECTED
    assert "data.shipmentId: is missing" in (record.reason or "")
    assert await gateway.store.payload_content(record.id) == bad
    # Support replays it (e.g. after a mapping change): the pipeline maps the stored body again.
    await gateway.store.reset_for_replay(record.id, reason="mapping fixed?", actor="support")
    result = await gateway.process_now(record.id)
    assert result is not None
    assert (result.state, result.failed_step) == (State.FAILED, Step.MAP)
    assert "data.shipmentId" in (result.reason or "")


@pytest.mark.parametrize(
    ("partner_id", "document_type"),
    [
        ("nobody", "shipment_confirmation_json"),
        ("swift-3pl", "po_json"),  # not agreed with this partner
        ("swift-3pl", "warehouse_order_json"),  # outbound only
    ],
)
async def test_unknown_partner_or_document_type_is_404(
    endpoint: Endpoint, gateway: Gateway, partner_id: str, document_type: str
) -> None:
    status, body, _ = await endpoint.post(SHIPMENT, url=endpoint.url(partner_id, document_type))
    assert status == 404
    assert body["error"] == "NotFound"
    assert await _inbound(gateway) == []


async def test_secrets_and_signatures_never_reach_the_logs(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    stamp = str(int(time.time()))
    good = sign(INBOUND_SECRET.encode(), stamp, SHIPMENT)
    wrong = sign(b"guess", stamp, SHIPMENT)
    with caplog.at_level(logging.DEBUG):
        for signature in (good, wrong):
            await endpoint.post(
                SHIPMENT, headers={"X-Edigate-Timestamp": stamp, "X-Edigate-Signature": f"v1={signature}"}
            )
    assert caplog.records
    for rec in caplog.records:
        text = json.dumps(rec.__dict__, default=str)
        for secret in (INBOUND_SECRET, good, wrong):
            assert secret not in text


NORTHWIND_SECRET = "whsec-northwind-portal-51c0e2"
MARKETPLACE_SECRET = "whsec-acme-marketplace-9b33d1"
REPO = Path(__file__).resolve().parents[4]


@pytest.fixture
def supplier_profiles(partners_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Northwind's portal posting acknowledgements, and ACME's marketplace posting orders, by webhook."""
    monkeypatch.setenv("NORTHWIND_PORTAL_SECRET", NORTHWIND_SECRET)
    monkeypatch.setenv("ACME_MARKETPLACE_SECRET", MARKETPLACE_SECRET)
    northwind = (REPO / "partners/northwind-supply.yaml").read_text().replace("file:../", f"file:{REPO}/")
    (partners_dir / "northwind-supply.yaml").write_text(northwind)
    acme: dict[str, Any] = yaml.safe_load((REPO / "partners/acme-retail.yaml").read_text())
    acme["channels"] = {"webhook": {"inbound": {"secret": "env:ACME_MARKETPLACE_SECRET"}}}
    (partners_dir / "acme-retail.yaml").write_text(yaml.safe_dump(acme, sort_keys=False))
    return partners_dir


async def _delivered(gateway: Gateway, message_id: str) -> Any:
    deadline = time.monotonic() + 15
    final = None
    while time.monotonic() < deadline:
        final = await gateway.store.get_payload(message_id)
        if final is not None and final.state in (State.DELIVERED, State.FAILED):
            break
        await asyncio.sleep(0.05)
    return final


@pytest.mark.parametrize(
    ("partner_id", "document_type", "fixture", "secret", "document", "number"),
    [
        (
            "northwind-supply",
            "poack_json",
            "northwind-poack.json",
            NORTHWIND_SECRET,
            "purchase_order_ack",
            "PO-4711",
        ),
        ("acme-retail", "po_json", "acme-marketplace-po.json", MARKETPLACE_SECRET, "purchase_order", None),
    ],
    ids=["supplier-po-ack", "supplier-po"],
)
async def test_supplier_json_orders_and_acknowledgements_over_http_reach_the_erp(
    supplier_profiles: Path,
    endpoint: Endpoint,
    gateway: Gateway,
    partner_id: str,
    document_type: str,
    fixture: str,
    secret: str,
    document: str,
    number: str | None,
) -> None:
    body = (REPO / "fixtures/mapping" / fixture).read_bytes()
    status, answer, _ = await endpoint.post(body, url=endpoint.url(partner_id, document_type), secret=secret)
    assert status == 202, answer
    assert (answer["partner_id"], answer["document_type"]) == (partner_id, document_type)
    await gateway.start()
    final = await _delivered(gateway, answer["message_id"])
    assert final is not None
    assert final.state is State.DELIVERED, final
    [erp] = _spooled(gateway, "erp")
    assert erp["routing_key"] == f"erp.{document}.{partner_id}"
    canonical = erp["body"]
    assert canonical["header"]["source_channel"] == "webhook"
    assert canonical["header"]["raw_document_id"] == answer["message_id"]
    expected = number or json.loads(body)["order"]["id"]
    assert canonical["po_number"] == expected
    # Signed with another partner's secret: refused before anything is stored as this partner's.
    status, _, _ = await endpoint.post(body, url=endpoint.url(partner_id, document_type))
    assert status == 401


async def test_an_invalid_supplier_acknowledgement_is_422_naming_each_field(
    supplier_profiles: Path, endpoint: Endpoint, gateway: Gateway
) -> None:
    data = json.loads((REPO / "fixtures/mapping/northwind-poack.json").read_bytes())
    data["decision"] = "maybe"
    del data["purchaseOrder"]["number"]
    status, answer, _ = await endpoint.post(
        json.dumps(data).encode(),
        url=endpoint.url("northwind-supply", "poack_json"),
        secret=NORTHWIND_SECRET,
    )
    assert status == 422, answer
    paths = [d["path"] for d in answer["details"]]
    assert "purchaseOrder.number" in paths
    assert "decision" in paths, answer
    record = await gateway.store.get_payload(answer["message_id"])
    assert record is not None
    assert record.state is State.REJECTED
