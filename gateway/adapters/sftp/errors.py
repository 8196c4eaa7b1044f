"""The SFTP adapter's exceptions, and how each surfaces.

::

    SftpError                       base; never a paramiko exception
    ├── PathRefused                 a partner path outside its root, traversal, symlink, or a
    │                               write where the partner may not write -> SFTP permission denied
    ├── UploadStillOpen             a rename of a temporary upload that is still being written
    │                               -> SFTP failure (a partial file never enters the pipeline)
    ├── CommitFailed                the store did not take an upload -> SFTP failure, nothing acked
    │   └── CommitPending           the store did not answer in time; the commit may still land
    ├── PollFailed                  a poll run failed on our side (store, disk, a bug): retry
    ├── PollLockLost                another instance took over a poll run's lock: stop, no retry
    └── RemoteError                 talking to a partner's server (poll mode, or outbound upload)
        ├── RemoteUnavailable       network, timeout, server gone: retry with backoff
        ├── HostKeyRefused          the server's host key is not the pinned one: stop, no retry
        ├── RemoteAuthFailed        our key was refused: stop, no retry
        └── RemoteTransferFailed    a listing, download, rename or delete failed: retry

Paramiko and socket exceptions are translated into these at the edge of
:mod:`gateway.adapters.sftp.client`, chained with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "CommitFailed",
    "CommitPending",
    "HostKeyRefused",
    "PathRefused",
    "PollFailed",
    "PollLockLost",
    "RemoteAuthFailed",
    "RemoteError",
    "RemoteTransferFailed",
    "RemoteUnavailable",
    "SftpError",
    "UploadStillOpen",
]


class SftpError(Exception):
    """Base of every SFTP adapter error."""

    #: Whether trying the same operation later can succeed without a human changing something.
    retryable: bool = False


class PathRefused(SftpError):
    """The partner asked for a path it may not use (shown to the client as permission denied)."""


class UploadStillOpen(SftpError):
    """A temporary upload was renamed while a handle still writes to it (here or on another connection).

    Renaming it to its final name would commit what has arrived so far; the client must close
    the file first. Trying again after the close succeeds.
    """

    retryable = True


class CommitFailed(SftpError):
    """The upload could not be committed to the store; the client is told the transfer failed."""

    retryable = True


class CommitPending(CommitFailed):
    """The commit did not finish within ``commit_timeout_seconds``; it is still running.

    The client is told the transfer failed. The upload's file is kept until the commit
    ends: committed late, it is archived and audited as ``sftp.upload_committed_late``
    (a re-sent copy then becomes a duplicate the pipeline recognises); failed, it is
    deleted and audited as ``sftp.upload_failed``.
    """


class PollFailed(SftpError):
    """A poll run failed on our side: storing a download, reaching the store, an unexpected error."""

    retryable = True

    def __init__(self, partner_id: str, message: str) -> None:
        self.partner_id = partner_id
        super().__init__(f"partner {partner_id}: {message}")


class PollLockLost(SftpError):
    """The run's lock lease could not be renewed (another instance holds it); the run stopped."""

    def __init__(self, partner_id: str, message: str) -> None:
        self.partner_id = partner_id
        super().__init__(f"partner {partner_id}: {message}")


class RemoteError(SftpError):
    """A failure while talking to a partner's SFTP server; the message names the partner."""

    def __init__(self, partner_id: str, message: str) -> None:
        self.partner_id = partner_id
        super().__init__(f"partner {partner_id}: {message}")


class RemoteUnavailable(RemoteError):
    retryable = True


class HostKeyRefused(RemoteError):
    """The server presented a host key other than the one pinned in the profile."""

    def __init__(self, partner_id: str, message: str, *, expected: str, presented: str | None) -> None:
        self.expected = expected
        self.presented = presented
        super().__init__(partner_id, message)


class RemoteAuthFailed(RemoteError):
    pass


class RemoteTransferFailed(RemoteError):
    retryable = True
