"""Our SFTP client for poll-mode partners: connect with the pinned host key, list, fetch, clean up, upload.

Everything here is blocking (paramiko); the poller and the outbound channel run it
with :func:`asyncio.to_thread`. Only the host key type that is pinned is offered in
the key exchange, so the server must show exactly that key: a different key of
that type, or none of that type, is refused with both fingerprints named. Paramiko
and socket exceptions do not leave this module: they become :mod:`.errors` types.
"""

from __future__ import annotations

import contextlib
import io
import socket
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from posixpath import join as remote_join

import paramiko

from gateway.adapters.sftp.errors import (
    HostKeyRefused,
    RemoteAuthFailed,
    RemoteError,
    RemoteTransferFailed,
    RemoteUnavailable,
)
from gateway.adapters.sftp.keys import PublicKey, host_key_algorithms, load_private_key
from gateway.domain.profiles import SecretUnavailable
from gateway.domain.profiles.sftp import SftpPoll

__all__ = ["Connector", "RemoteFile", "RemoteSession", "open_remote"]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    path: str
    name: str
    size: int
    mtime: int


class RemoteSession:
    """One logged-in SFTP session on a partner's server."""

    def __init__(self, partner_id: str, transport: paramiko.Transport, sftp: paramiko.SFTPClient) -> None:
        self.partner_id = partner_id
        self._transport = transport
        self._sftp = sftp

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except RemoteError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if not self._transport.is_active():
                raise RemoteUnavailable(self.partner_id, f"connection lost during {what}: {exc}") from exc
            raise RemoteTransferFailed(self.partner_id, f"{what} failed: {exc}") from exc

    def list_files(self, directory: str) -> list[RemoteFile]:
        """Regular files in ``directory``, oldest first."""
        with self._errors(f"listing {directory}"):
            entries = self._sftp.listdir_attr(directory)
        files = [
            RemoteFile(remote_join(directory, e.filename), e.filename, e.st_size or 0, e.st_mtime or 0)
            for e in entries
            if e.st_mode is not None and stat.S_ISREG(e.st_mode)
        ]
        return sorted(files, key=lambda f: (f.mtime, f.name))

    def read(self, remote: RemoteFile, max_bytes: int) -> bytes:
        if remote.size > max_bytes:
            raise RemoteTransferFailed(
                self.partner_id, f"{remote.path} is {remote.size} bytes, over the limit of {max_bytes}"
            )
        buffer = io.BytesIO()
        with self._errors(f"downloading {remote.path}"):
            self._sftp.getfo(remote.path, buffer, prefetch=True)
        return buffer.getvalue()

    def remove(self, path: str) -> None:
        with self._errors(f"deleting {path}"):
            self._sftp.remove(path)

    def exists(self, path: str) -> bool:
        with self._errors(f"checking {path}"):
            try:
                self._sftp.stat(path)
            except FileNotFoundError:
                return False
        return True

    def move_unique(self, path: str, directory: str, name: str, tag: str) -> str:
        """Rename ``path`` into ``directory`` as ``name`` or, when taken, ``stem.tag.suffix``."""
        stem, dot, suffix = name.rpartition(".")
        alternative = f"{stem}.{tag}.{suffix}" if dot and stem else f"{name}.{tag}"
        for candidate in (name, alternative):
            target = remote_join(directory, candidate)
            if self.exists(target):
                continue
            with self._errors(f"moving {path} to {target}"):
                self._sftp.rename(path, target)
            return target
        raise RemoteTransferFailed(self.partner_id, f"{directory} already holds {name} and {alternative}")

    def upload(self, directory: str, name: str, content: bytes, tag: str) -> str:
        """Write under a hidden temporary name, then rename to ``name`` (or a unique variant)."""
        temp = remote_join(directory, f".{name}.{uuid.uuid4().hex[:8]}.part")
        with self._errors(f"uploading {temp}"):
            self._sftp.putfo(io.BytesIO(content), temp, file_size=len(content), confirm=True)
        try:
            return self.move_unique(temp, directory, name, tag)
        except RemoteError:
            with contextlib.suppress(OSError, paramiko.SSHException):
                self._sftp.remove(temp)
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sftp.close()
        self._transport.close()


#: Opens a session on a partner's server (blocking); :func:`open_remote` with a timeout by default.
Connector = Callable[[str, SftpPoll], RemoteSession]


def open_remote(partner_id: str, profile: SftpPoll, *, timeout: float) -> RemoteSession:
    """Connect, verify the pinned host key, log in with our key and start SFTP."""
    pinned = PublicKey.parse(profile.known_host_key)
    try:
        key = load_private_key(profile.key.read())
    except (SecretUnavailable, ValueError, paramiko.SSHException) as exc:
        raise RemoteAuthFailed(partner_id, f"our SFTP key {profile.key} cannot be loaded: {exc}") from exc
    where = f"{profile.host}:{profile.port}"
    try:
        sock = socket.create_connection((profile.host, profile.port), timeout=timeout)
    except OSError as exc:
        raise RemoteUnavailable(partner_id, f"cannot connect to {where}: {exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
        transport.get_security_options().key_types = host_key_algorithms(pinned.key_type)
        try:
            transport.start_client(timeout=timeout)
        except paramiko.SSHException as exc:
            if "host key" in str(exc).lower():
                raise HostKeyRefused(
                    partner_id,
                    f"{where} offers no {pinned.key_type} host key; pinned {pinned.fingerprint}",
                    expected=pinned.fingerprint,
                    presented=None,
                ) from exc
            raise RemoteUnavailable(partner_id, f"SSH handshake with {where} failed: {exc}") from exc
        presented = PublicKey.of(transport.get_remote_server_key())
        if presented != pinned:
            raise HostKeyRefused(
                partner_id,
                f"host key of {where} changed: it presented {presented.key_type} {presented.fingerprint}, "
                f"the profile pins {pinned.key_type} {pinned.fingerprint}; update known_host_key only "
                "after confirming the new key with the partner",
                expected=pinned.fingerprint,
                presented=presented.fingerprint,
            )
        try:
            transport.auth_publickey(profile.username, key)
        except paramiko.AuthenticationException as exc:
            raise RemoteAuthFailed(
                partner_id, f"{where} refused our key for {profile.username}: {exc}"
            ) from exc
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise RemoteUnavailable(partner_id, f"{where} did not start the SFTP subsystem")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(timeout)
        return RemoteSession(partner_id, transport, sftp)
    except RemoteError:
        transport.close()
        raise
    except (OSError, EOFError, paramiko.SSHException) as exc:
        transport.close()
        raise RemoteUnavailable(partner_id, f"SFTP session with {where} failed: {exc}") from exc
