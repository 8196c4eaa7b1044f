"""Paramiko's status and result constants with types (paramiko ships no type hints)."""

from __future__ import annotations

import paramiko

__all__ = [
    "AUTH_FAILED",
    "AUTH_SUCCESSFUL",
    "OPEN_PROHIBITED",
    "OPEN_SUCCEEDED",
    "SFTP_FAILURE",
    "SFTP_NO_SUCH_FILE",
    "SFTP_OK",
    "SFTP_PERMISSION_DENIED",
    "errno_code",
]

SFTP_OK: int = paramiko.SFTP_OK
SFTP_FAILURE: int = paramiko.SFTP_FAILURE
SFTP_NO_SUCH_FILE: int = paramiko.SFTP_NO_SUCH_FILE
SFTP_PERMISSION_DENIED: int = paramiko.SFTP_PERMISSION_DENIED
AUTH_SUCCESSFUL: int = paramiko.AUTH_SUCCESSFUL
AUTH_FAILED: int = paramiko.AUTH_FAILED
OPEN_SUCCEEDED: int = paramiko.OPEN_SUCCEEDED
OPEN_PROHIBITED: int = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def errno_code(errno: int | None) -> int:
    """The SFTP status for an OS error number (permission denied, no such file, or failure)."""
    code: int = paramiko.SFTPServer.convert_errno(errno)
    return code
