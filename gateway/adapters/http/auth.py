"""Bearer-token authentication and role checks for the admin API.

Token values are read once, when the app is built, from the references in
``settings.api_tokens`` (``env:NAME`` / ``file:PATH``). A request's token is compared
with every configured token using :func:`hmac.compare_digest`, without stopping at the
first match, so timing reveals nothing about which token (if any) was close. Token values
are never logged and never appear in a response.

=============  ==================================================
role           may
=============  ==================================================
``support``    read messages, acks, replays and partners; replay
``onboarding`` read partners, validate and reload profiles
``admin``      everything
=============  ==================================================
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

from aiohttp import web

from gateway.adapters.http.base import PRINCIPAL, Endpoint, Handler, Principal
from gateway.config import ApiToken, Role
from gateway.domain.profiles import SecretUnavailable
from gateway.domain.runtime.errors import AuthenticationFailed, InsufficientSecurity

__all__ = ["MANAGE_PARTNERS", "READ_MESSAGES", "READ_PARTNERS", "REPLAY", "TokenAuthenticator", "guard"]

log = logging.getLogger("gateway.http.auth")

READ_MESSAGES = frozenset({Role.SUPPORT, Role.ADMIN})
REPLAY = frozenset({Role.SUPPORT, Role.ADMIN})
READ_PARTNERS = frozenset({Role.SUPPORT, Role.ONBOARDING, Role.ADMIN})
MANAGE_PARTNERS = frozenset({Role.ONBOARDING, Role.ADMIN})


class TokenAuthenticator:
    """Maps a presented bearer token to the :class:`Principal` it belongs to."""

    def __init__(self, tokens: Iterable[tuple[str, Role, bytes]]) -> None:
        self._tokens = [(name, role, value) for name, role, value in tokens]
        for name, _, value in self._tokens:
            if not value:
                raise ValueError(f"API token {name!r} is empty")
        names = [name for name, _, _ in self._tokens]
        if len(set(names)) != len(names):
            raise ValueError("API token names must be unique (the name is the actor in audit trails)")

    @classmethod
    def from_settings(cls, tokens: Iterable[ApiToken]) -> TokenAuthenticator:
        """Read each referenced token value now; a missing secret stops start-up, naming the reference."""
        loaded = []
        for token in tokens:
            try:
                value = token.token.read_text().strip().encode()
            except SecretUnavailable as exc:
                raise SecretUnavailable(f"API token {token.name!r}: {exc}") from exc
            loaded.append((token.name, token.role, value))
        return cls(loaded)

    def __len__(self) -> int:
        return len(self._tokens)

    def identify(self, presented: bytes) -> Principal | None:
        found: Principal | None = None
        for name, role, value in self._tokens:
            if hmac.compare_digest(presented, value) and found is None:
                found = Principal(name, role)
        return found

    def authenticate(self, request: web.Request) -> Principal:
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if not header:
            raise AuthenticationFailed("this endpoint needs a bearer token")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationFailed("use 'Authorization: Bearer <token>'")
        principal = self.identify(credentials.strip().encode())
        if principal is None:
            log.warning(
                "rejected an unknown API token", extra={"remote": request.remote, "path": request.path}
            )
            raise AuthenticationFailed("the bearer token is not valid")
        return principal


def guard(endpoint: Endpoint, authenticator: TokenAuthenticator) -> Handler:
    """The endpoint's handler behind its role check (open endpoints are returned as they are)."""
    roles = endpoint.roles
    if roles is None:
        return endpoint.handler
    inner = endpoint.handler

    async def handle(request: web.Request) -> web.StreamResponse:
        principal = authenticator.authenticate(request)
        if principal.role not in roles:
            log.warning(
                "API token lacks the role for this endpoint",
                extra={"actor": principal.name, "role": principal.role.value, "path": request.path},
            )
            allowed = ", ".join(sorted(role.value for role in roles))
            raise InsufficientSecurity(
                f"role '{principal.role.value}' may not do this; needs one of: {allowed}"
            )
        request[PRINCIPAL] = principal
        return await inner(request)

    return handle
