"""The SFTP channel: our server for partners who push, our poller for partners we poll.

Modules: :mod:`.policy` (what a partner may do, pure), :mod:`.storage` (its folders
on disk), :mod:`.filesystem` + :mod:`.auth` + :mod:`.session` + :mod:`.server` (the
paramiko server), :mod:`.client` + :mod:`.poller` + :mod:`.timing` (polling partners),
:mod:`.channel` (outbound), :mod:`.trail` (audit events that survive a store outage),
:mod:`.keys`, :mod:`.passwords`, :mod:`.metrics`, :mod:`.settings`, and :mod:`.service`
(one object for the composition root).
See ``docs/sftp.md``.
"""

from gateway.adapters.sftp.accounts import Account, AccountDirectory
from gateway.adapters.sftp.channel import SftpPartnerChannel
from gateway.adapters.sftp.client import Connector, RemoteFile, RemoteSession, open_remote
from gateway.adapters.sftp.errors import (
    CommitFailed,
    CommitPending,
    HostKeyRefused,
    PathRefused,
    PollFailed,
    PollLockLost,
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
from gateway.adapters.sftp.poller import (
    PollReport,
    SftpPoller,
    poll_idempotency_key,
    run_lock_name,
    slot_lock_name,
)
from gateway.adapters.sftp.server import SftpServer
from gateway.adapters.sftp.service import SftpService, install_sftp
from gateway.adapters.sftp.settings import SftpSettings
from gateway.adapters.sftp.trail import AUDIT_ENTITY, AuditTrail

__all__ = [
    "AUDIT_ENTITY",
    "Account",
    "AccountDirectory",
    "Area",
    "AuditTrail",
    "CommitFailed",
    "CommitPending",
    "Connector",
    "HostKeyRefused",
    "Layout",
    "PathRefused",
    "PollFailed",
    "PollLockLost",
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
    "run_lock_name",
    "slot_lock_name",
    "verify_password",
]
