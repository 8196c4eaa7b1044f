"""Debian's OpenSSH for tests: key generation, the ``sftp`` batch client and a private ``sshd``.

:func:`require_openssh` makes sure ``/usr/sbin/sshd``, ``sftp`` and ``ssh-keygen`` exist,
installing ``openssh-server`` with ``apt-get`` when ``sshd`` is missing. Under
``CI=true`` failing to get them is a test failure; elsewhere the test is skipped with
how to install them. :class:`Sshd` runs ``sshd -D -e -f <config>`` as its own process
on a loopback port with its own host key, ``authorized_keys`` and pid file, key-only,
SFTP-only (``ForceCommand`` runs OpenSSH's ``sftp-server``), so it never touches the
system's sshd. That ``sftp-server -l INFO`` logs every request (opens with their flags,
closes with bytes read and written, renames, removes) to ``sftp-server.log``, which
:meth:`Sshd.sftp_requests` reads, so a test can check on the server's side what a
client did; ``denied`` bans SFTP requests (``sftp-server -P``), so that for example
every ``remove`` fails on a real server.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["SSHD", "Sshd", "free_port", "keygen", "require_openssh", "sftp_batch"]

SSHD = Path("/usr/sbin/sshd")
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")
_HOW = "apt-get update && apt-get install -y openssh-server openssh-client"


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: OpenSSH is required)", pytrace=False)
    pytest.skip(f"{message}; install it with `{_HOW}`")


def _apt_install() -> str | None:
    """Install openssh-server; None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    if os.geteuid() != 0:
        return "installing packages needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "openssh-server", "openssh-client"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"apt-get install failed: {done.stderr.strip()[-300:]}"
    return None


def require_openssh() -> None:
    """Fail (CI) or skip unless sshd, sftp and ssh-keygen are available (installing sshd if needed)."""
    if not SSHD.exists():
        problem = _apt_install()
        if problem is not None or not SSHD.exists():
            why = problem or "not found after install"
            _unavailable(f"{SSHD} is missing and could not be installed ({why})")
    for tool in ("sftp", "ssh-keygen"):
        if shutil.which(tool) is None:
            _unavailable(f"the OpenSSH tool {tool} is missing")
    if not SFTP_SERVER.exists():
        _unavailable(f"{SFTP_SERVER} (openssh-sftp-server) is missing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keygen(path: Path, kind: str = "ed25519", bits: int | None = None) -> str:
    """Create a key pair with ssh-keygen (no passphrase); returns the public key line."""
    cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"test-{kind}", "-f", str(path)]
    if bits is not None:
        cmd += ["-b", str(bits)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return Path(f"{path}.pub").read_text().strip()


def sftp_batch(
    port: int,
    user: str,
    identity: Path,
    known_hosts: Path,
    commands: list[str],
    *,
    cwd: Path,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run the OpenSSH ``sftp`` client in batch mode against 127.0.0.1 (strict host key checking).

    A command prefixed with ``-`` may fail without ending the batch (sftp's own rule).
    """
    batch = cwd / f"batch-{time.monotonic_ns()}.txt"
    batch.write_text("\n".join(commands) + "\n")
    cmd = [
        "sftp", "-b", str(batch), "-i", str(identity), "-P", str(port), "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no",
        "-o", "ConnectTimeout=10", f"{user}@127.0.0.1",
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@dataclass
class Sshd:
    """A private OpenSSH server: ``start()``, ``stop()``, ``restart()`` (after ``new_host_key()``)."""

    directory: Path
    authorized_keys: list[str]
    port: int = field(default_factory=free_port)
    user: str = field(default_factory=getpass.getuser)
    denied: tuple[str, ...] = ()  # SFTP requests the server refuses, e.g. ("remove",)
    log_requests: bool = True  # False: plain internal-sftp, no per-request log (benchmarks)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host_key = self.directory / "ssh_host_ed25519_key"
        if not self.host_key.exists():
            keygen(self.host_key)

    @property
    def host_key_line(self) -> str:
        return Path(f"{self.host_key}.pub").read_text().strip()

    @property
    def log(self) -> str:
        path = self.directory / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_host_key(self) -> str:
        """Replace the host key (the server must be restarted to use it); returns the new public line."""
        self.host_key.unlink()
        Path(f"{self.host_key}.pub").unlink()
        return keygen(self.host_key)

    def sftp_requests(self, kind: str) -> list[str]:
        """The SFTP server's log lines for one kind of request (``open``, ``close``, ``rename``, ...)."""
        path = self.directory / "sftp-server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [line.removeprefix(f"{kind} ") for line in text.splitlines() if line.startswith(f"{kind} ")]

    def _config(self) -> Path:
        d = self.directory
        denied = f" -P {','.join(self.denied)}" if self.denied else ""
        if self.log_requests:  # sftp-server, not internal-sftp, whose stderr is the client's channel
            sftp = f"{SFTP_SERVER} -e -l INFO{denied} 2>>{d / 'sftp-server.log'}"
        else:
            sftp = f"internal-sftp{denied}"
        (d / "authorized_keys").write_text(
            "".join(f"restrict {line}\n" for line in self.authorized_keys)
        )
        config = d / "sshd_config"
        config.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {d / "sshd.pid"}
AuthorizedKeysFile {d / "authorized_keys"}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {self.user}
Subsystem sftp internal-sftp
ForceCommand {sftp}
MaxStartups 200
MaxSessions 50
LogLevel VERBOSE
"""
        )
        return config

    def start(self, timeout: float = 10.0) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        config = self._config()
        log = open(self.directory / "sshd.log", "ab")  # noqa: SIM115  # handed to the process
        try:
            self.process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}:\n{self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port}:\n{self.log}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
