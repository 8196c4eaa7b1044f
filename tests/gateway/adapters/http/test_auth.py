"""Bearer tokens and roles over real HTTP: 401 with a challenge, 403 per route group, no token in logs."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.adapters.http import ROUTES, TokenAuthenticator, build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.config import ApiToken, Role, Settings
from gateway.domain.profiles import SecretRef, SecretUnavailable
from gateway.domain.usecases.services import GatewayServices
from gateway.logging import capture_logs
from tests.gateway.adapters.http.helpers import TOKENS, bearer

Client = TestClient[Any, Any]

_REPLAY = {"mode": "raw", "reason": "test", "payload_ids": ["nope"]}

#: One route of each protected group: (method, concrete path, body) and who may use it.
GROUPS: dict[str, tuple[str, str, dict[str, Any] | None, set[Role]]] = {
    "read messages": ("GET", "/api/v1/messages", None, {Role.SUPPORT, Role.ADMIN}),
    "show message": ("GET", "/api/v1/messages/{id}", None, {Role.SUPPORT, Role.ADMIN}),
    "raw message": ("GET", "/api/v1/messages/{id}/raw", None, {Role.SUPPORT, Role.ADMIN}),
    "overdue acks": ("GET", "/api/v1/acks/overdue", None, {Role.SUPPORT, Role.ADMIN}),
    "start replay": ("POST", "/api/v1/replays", _REPLAY, {Role.SUPPORT, Role.ADMIN}),
    "list replays": ("GET", "/api/v1/replays", None, {Role.SUPPORT, Role.ADMIN}),
    "show replay": ("GET", "/api/v1/replays/{id}", None, {Role.SUPPORT, Role.ADMIN}),
    "list partners": ("GET", "/api/v1/partners", None, set(Role)),
    "show partner": ("GET", "/api/v1/partners/{id}", None, set(Role)),
    "partner audit": ("GET", "/api/v1/partners/{id}/audit", None, set(Role)),
    "certificates": ("GET", "/api/v1/certificates", None, set(Role)),
    "control numbers": ("GET", "/api/v1/partners/{id}/control-numbers", None, set(Role)),
    "validate partners": ("POST", "/api/v1/partners/validate", None, {Role.ONBOARDING, Role.ADMIN}),
    "reload partners": ("POST", "/api/v1/partners/reload", None, {Role.ONBOARDING, Role.ADMIN}),
}


def _concrete(path: str) -> str:
    return path.replace("/partners/{id}", "/partners/acme-retail").replace("{id}", "unknown-id")


def test_the_role_table_covers_every_protected_route() -> None:
    protected = {(ep.method, ep.path): ep.roles for ep in ROUTES if ep.roles is not None}
    assert {(m, p): set(roles) for m, p, _, roles in GROUPS.values()} == protected


async def test_no_token_is_401_with_a_bearer_challenge(client: Client) -> None:
    for method, path, body, _ in GROUPS.values():
        response = await client.request(method, _concrete(path), json=body)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="edigate"'
        problem = await response.json()
        assert problem["error"] == "AuthenticationFailed"
        assert problem["correlation_id"] == response.headers["X-Correlation-ID"]


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong-token", f"Basic {TOKENS[Role.ADMIN]}", "Bearer", f"Bearer {TOKENS[Role.ADMIN]}x"],
)
async def test_bad_tokens_are_401(client: Client, header: str) -> None:
    response = await client.get("/api/v1/messages", headers={"Authorization": header})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="edigate", error="invalid_token"'


@pytest.mark.parametrize("role", list(Role))
async def test_roles_per_route_group(client: Client, role: Role) -> None:
    for group, (method, path, body, allowed) in GROUPS.items():
        response = await client.request(method, _concrete(path), json=body, headers=bearer(role))
        if role in allowed:
            assert response.status not in (401, 403), (group, await response.text())
        else:
            assert response.status == 403, group
            problem = await response.json()
            assert problem["error"] == "InsufficientSecurity"
            assert f"role '{role.value}'" in problem["message"]


async def test_tokens_never_appear_in_logs_or_responses(client: Client) -> None:
    secret = TOKENS[Role.ADMIN]
    with capture_logs() as lines:
        bad = await client.get("/api/v1/messages", headers={"Authorization": f"Bearer {secret}-typo"})
        wrong_role = await client.post("/api/v1/partners/reload", headers=bearer(Role.SUPPORT))
        ok = await client.get("/api/v1/partners", headers=bearer(Role.ADMIN))
        texts = [await bad.text(), await wrong_role.text(), await ok.text()]
    assert (bad.status, wrong_role.status, ok.status) == (401, 403, 200)
    assert any(line["message"] == "rejected an unknown API token" for line in lines)
    dumped = repr(lines) + "".join(texts)
    for value in TOKENS.values():
        assert value not in dumped


async def test_a_missing_token_secret_stops_the_build(
    services: GatewayServices, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDIGATE_TEST_API_TOKEN_ADMIN")
    with pytest.raises(SecretUnavailable, match=r"ada-admin.*EDIGATE_TEST_API_TOKEN_ADMIN"):
        build_admin_app(services, settings, Metrics())


def test_token_table_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY_TOKEN", "")
    empty = ApiToken(name="x", role=Role.ADMIN, token=SecretRef("env", "EMPTY_TOKEN"))
    with pytest.raises(ValueError, match="empty"):
        TokenAuthenticator.from_settings([empty])
    with pytest.raises(ValueError, match="unique"):
        TokenAuthenticator([("a", Role.ADMIN, b"t1"), ("a", Role.SUPPORT, b"t2")])
    table = TokenAuthenticator([("a", Role.ADMIN, b"t1"), ("b", Role.SUPPORT, b"t2")])
    assert table.identify(b"t2") is not None
    assert table.identify(b"t2").name == "b"  # type: ignore[union-attr]
    assert table.identify(b"t3") is None
