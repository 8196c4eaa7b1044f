"""The SFTP channel: our server for partners who push, our poller for partners we poll.

Modules: :mod:`.policy` (what a partner may do, pure), :mod:`.storage` (its folders
on disk), :mod:`.filesystem` + :mod:`.auth` + :mod:`.session` + :mod:`.server` (the
paramiko server), :mod:`.client` + :mod:`.poller` (polling partners), :mod:`.channel`
(outbound), :mod:`.keys`, :mod:`.passwords`, :mod:`.timing`, :mod:`.metrics`,
:mod:`.settings`, and :mod:`.service` (one object for the composition root).
See ``docs/sftp.md``.
"""

from gateway.adapters.sftp.accounts import Account, AccountDirectory
from gateway.adapters.sftp.channel import SftpPartnerChannel
from gateway.adapters.sftp.client import Connector, RemoteFile, RemoteSession, open_remote
from gateway.adapters.sftp.errors import (
    CommitFailed,
    HostKeyRefused,
    PathRefused,
    RemoteAuthFailed,
    RemoteError,
    RemoteTransferFailed,
    RemoteUnavailable,
    SftpError,
)
from gateway.adapters.sftp.keys import PublicKey, fingerprint, load_or_create_host_key
from gateway.adapters.sftp.metrics import SftpMetrics, SftpObserver
from gateway.adapters.sftp.passwords import hash_password, verify_password
from gateway.adapters.sftp.policy import Area, Layout, is_temporary
from gateway.adapters.sftp.poller import PollReport, SftpPoller, poll_idempotency_key
from gateway.adapters.sftp.server import SftpServer
from gateway.adapters.sftp.service import SftpService, install_sftp
from gateway.adapters.sftp.session import AUDIT_ENTITY
from gateway.adapters.sftp.settings import SftpSettings

__all__ = [
    "AUDIT_ENTITY",
    "Account",
    "AccountDirectory",
    "Area",
    "CommitFailed",
    "Connector",
    "HostKeyRefused",
    "Layout",
    "PathRefused",
    "PollReport",
    "PublicKey",
    "RemoteAuthFailed",
    "RemoteError",
    "RemoteFile",
    "RemoteSession",
    "RemoteTransferFailed",
    "RemoteUnavailable",
    "SftpError",
    "SftpMetrics",
    "SftpObserver",
    "SftpPartnerChannel",
    "SftpPoller",
    "SftpServer",
    "SftpService",
    "SftpSettings",
    "fingerprint",
    "hash_password",
    "install_sftp",
    "is_temporary",
    "load_or_create_host_key",
    "open_remote",
    "poll_idempotency_key",
    "verify_password",
]
