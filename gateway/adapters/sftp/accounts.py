"""Partner accounts on our SFTP server, read from the live profiles (push mode only).

The directory is rebuilt whenever the registry's generation changes, so a profile
reload adds, changes or removes accounts without a restart. Public keys compare by
type and blob; a password is checked only when the profile names a hash, and the
hash is read from its reference at each attempt (so it can be rotated in place).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from gateway.adapters.sftp.keys import PublicKey
from gateway.adapters.sftp.passwords import verify_password
from gateway.adapters.sftp.policy import Layout
from gateway.domain.profiles import SecretRef, SecretUnavailable
from gateway.domain.profiles.sftp import SftpPush
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["Account", "AccountDirectory"]

log = logging.getLogger("edigate.sftp")


@dataclass(frozen=True, slots=True)
class Account:
    partner_id: str
    username: str
    keys: frozenset[PublicKey]
    layout: Layout
    password_hash: SecretRef | None = None

    @property
    def methods(self) -> str:
        return "publickey,password" if self.password_hash is not None else "publickey"

    def accepts_key(self, key: PublicKey) -> bool:
        return key in self.keys

    def accepts_password(self, password: str) -> bool:
        if self.password_hash is None:
            return False
        try:
            stored = self.password_hash.read_text()
        except (SecretUnavailable, UnicodeDecodeError) as exc:
            log.error("cannot read the password hash of SFTP account %s: %s", self.username, exc)
            return False
        return verify_password(stored, password)


class AccountDirectory:
    """Username -> account for every push-mode partner; thread-safe (paramiko threads read it)."""

    def __init__(self, registry: ProfileRegistry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._generation = -1
        self._accounts: dict[str, Account] = {}

    def _build(self) -> dict[str, Account]:
        accounts: dict[str, Account] = {}
        for profile in self._registry.current:
            sftp = profile.channels.sftp
            if not isinstance(sftp, SftpPush):
                continue
            try:
                layout = Layout(sftp.paths.inbox, sftp.paths.outbox, sftp.paths.archive)
            except ValueError as exc:
                log.error("SFTP account %s disabled: %s", sftp.account.username, exc)
                continue
            keys = frozenset(PublicKey.parse(line) for line in sftp.account.authorized_keys)
            accounts[sftp.account.username] = Account(
                profile.partner_id, sftp.account.username, keys, layout, sftp.account.password_hash
            )
        return accounts

    def _current(self) -> dict[str, Account]:
        with self._lock:
            if self._generation != self._registry.generation:
                self._accounts = self._build()
                self._generation = self._registry.generation
            return self._accounts

    def get(self, username: str) -> Account | None:
        return self._current().get(username)

    def all(self) -> list[Account]:
        return list(self._current().values())
