"""Authentication and channel policy for one connection (a paramiko ``ServerInterface``).

Public keys (Ed25519, ECDSA, RSA; several per partner) are the normal method.
Passwords are offered only to accounts whose profile names a password hash. Only
``session`` channels with the ``sftp`` subsystem are allowed: no shell, exec, PTY or
port forwarding. Keys and passwords are never logged; key fingerprints are.
"""

from __future__ import annotations

import paramiko

from gateway.adapters.sftp.codes import AUTH_FAILED, AUTH_SUCCESSFUL, OPEN_PROHIBITED, OPEN_SUCCEEDED
from gateway.adapters.sftp.keys import PublicKey
from gateway.adapters.sftp.session import Session

__all__ = ["AccountAuth"]


class AccountAuth(paramiko.ServerInterface):  # type: ignore[misc]  # paramiko ships no type hints
    def __init__(self, session: Session) -> None:
        self.session = session
        self._pending_fingerprint: dict[str, str] = {}

    def get_allowed_auths(self, username: str) -> str:
        account = self.session.services.accounts.get(username)
        return account.methods if account is not None else "publickey"

    def check_auth_none(self, username: str) -> int:
        self.session.touch()
        self.session.attempted_user = username
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        session = self.session
        session.touch()
        session.attempted_user = username
        offered = PublicKey.of(key)
        account = session.services.accounts.get(username)
        if account is not None and account.accepts_key(offered):
            self._pending_fingerprint[username] = offered.fingerprint
            return AUTH_SUCCESSFUL
        session.failures.append(f"publickey {offered.key_type} {offered.fingerprint}")
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        session = self.session
        session.touch()
        session.attempted_user = username
        account = session.services.accounts.get(username)
        if account is not None and account.accepts_password(password):
            self._pending_fingerprint.pop(username, None)
            return AUTH_SUCCESSFUL
        session.failures.append("password")
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        session = self.session
        transport = session.transport
        if kind != "session" or transport is None or not transport.is_authenticated():
            return OPEN_PROHIBITED
        username = transport.get_username()
        account = session.services.accounts.get(username)
        if account is None:
            return OPEN_PROHIBITED
        with session.lock:
            if session.account is None:
                session.account = account
                session.key_fingerprint = self._pending_fingerprint.get(username)
        session.touch()
        return OPEN_SUCCEEDED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        if name != "sftp" or self.session.account is None:
            return False
        result: bool = super().check_channel_subsystem_request(channel, name)
        return result
