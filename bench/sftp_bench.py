"""SFTP ingest benchmark: 1,000 small files uploaded by the OpenSSH ``sftp`` client in one session,
to the gateway's SFTP server (each file committed to the store before its CLOSE is
acknowledged, then archived) and to OpenSSH's ``sshd`` (``internal-sftp``, plain files),
in the same run, rounds interleaved.

    python -m bench.sftp_bench [--count N] [--runs R] [--clients C]

With ``--clients C`` the files are split over C ``sftp`` processes running at the same
time (C connections), which lets the gateway commit several uploads per transaction.

Needs ``/usr/sbin/sshd`` (``apt-get install openssh-server``), ``sftp`` and ``ssh-keygen``.
The store is SQLite in a temporary directory; nothing else is running.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from gateway.adapters.sftp import AccountDirectory, SftpServer, SftpSettings
from gateway.config import Settings
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.support.openssh import SSHD, Sshd, keygen

REPO = Path(__file__).resolve().parents[1]
SAMPLE = (REPO / "fixtures/x12/sample-850.edi").read_bytes()
PARTNER, USER = "bench-sftp", "bench"


def _files(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for n in range(count):
        name = f"po-{n:05d}.x12"
        (folder / name).write_bytes(SAMPLE.replace(b"PO-778812", b"PO-%d" % n))
        names.append(name)
    return names


def _profile(public_key: str) -> dict[str, object]:
    return {
        "partner_id": PARTNER,
        "name": "SFTP benchmark partner",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": "ACMERETAIL"},
        "channels": {
            "sftp": {
                "mode": "push",
                "account": {"username": USER, "authorized_keys": [public_key]},
                "paths": {"inbox": "/inbox", "outbox": "/outbox", "archive": "/archive"},
            }
        },
        "documents": [{"direction": "inbound", "type": "850", "format": "x12", "version": "004010"}],
    }


def _upload(
    port: int, user: str, key: Path, known_hosts: Path, target: str, names: list[str], cwd: Path, n: int = 0
) -> float:
    batch = cwd / f"batch-{port}-{n}.txt"
    batch.write_text(f"cd {target}\n" + "".join(f"put {name}\n" for name in names))
    cmd = [
        "sftp", "-q", "-b", str(batch), "-i", str(key), "-P", str(port), "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", f"{user}@127.0.0.1",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"sftp to port {port} failed: {done.stderr[-500:]}")
    return elapsed


def _parallel(
    clients: int, names: list[str], port: int, user: str, key: Path, hosts: Path, target: str, cwd: Path
) -> float:
    """Wall time for ``clients`` sftp processes uploading disjoint slices of ``names`` at once."""
    slices = [names[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [
            pool.submit(_upload, port, user, key, hosts, target, part, cwd, n)
            for n, part in enumerate(slices)
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started


async def run(count: int, runs: int, clients: int = 1) -> dict[str, list[float]]:
    if not SSHD.exists():
        raise SystemExit(f"{SSHD} is missing: apt-get install -y openssh-server")
    with tempfile.TemporaryDirectory(prefix="edigate-sftp-bench-") as tmp_name:
        tmp = Path(tmp_name)
        public = keygen(tmp / "client_key")
        names = _files(tmp / "files", count)
        partners = tmp / "partners"
        partners.mkdir()
        (partners / f"{PARTNER}.yaml").write_text(yaml.safe_dump(_profile(public)))
        gateway = await Gateway.open(
            Settings(
                database_url=f"sqlite:///{tmp}/gateway.db",
                partners_dir=partners,
                mappings_dir=REPO / "mappings",
                var_dir=tmp / "var",
                spool_dir=tmp / "spool",
                filedrop_dir=tmp / "filedrop",
            )
        )
        server = SftpServer(
            SftpSettings.under(tmp / "var", port=0), AccountDirectory(gateway.registry), gateway.receive,
            gateway.store,
        )
        await server.start()
        sshd = Sshd(tmp / "sshd", [public], log_requests=False)  # internal-sftp, as in production
        sshd.start()
        hosts = tmp / "known_hosts"
        host, port = server.address
        hosts.write_text(
            "".join(f"[{host}]:{port} {line}\n" for line in server.host_key_lines)
            + f"[127.0.0.1]:{sshd.port} {sshd.host_key_line}\n"
        )
        times: dict[str, list[float]] = {"edigate SFTP server": [], "OpenSSH sshd": []}
        try:
            for round_no in range(runs):
                target = tmp / "sshd-target" / f"round-{round_no}"
                target.mkdir(parents=True)
                order = ["OpenSSH sshd", "edigate SFTP server"]
                key, files = tmp / "client_key", tmp / "files"
                for name in order if round_no % 2 == 0 else order[::-1]:
                    if name == "OpenSSH sshd":
                        args = (sshd.port, sshd.user, key, hosts, str(target), files)
                    else:
                        args = (port, USER, key, hosts, "/inbox", files)
                    times[name].append(await asyncio.to_thread(_parallel, clients, names, *args))
                if len(list(target.iterdir())) != count:
                    raise RuntimeError("sshd did not receive every file")
            flt = MessageFilter(partner_id=PARTNER, limit=count * runs + 1)
            stored = await gateway.store.list_payloads(flt)
            if len(stored) != count * runs:
                raise RuntimeError(f"the gateway stored {len(stored)} payloads, expected {count * runs}")
        finally:
            sshd.stop()
            await server.stop()
            await gateway.stop()
        return times


def report(times: dict[str, list[float]], count: int, clients: int) -> str:
    sshd_median = statistics.median(times["OpenSSH sshd"])
    runs = len(times["OpenSSH sshd"])
    lines = [
        f"{count} files of about {len(SAMPLE)} bytes per run, {clients} client(s), {runs} runs, medians",
        "",
        "| server | seconds | files/s | vs sshd |",
        "|---|---:|---:|---:|",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.2f} | {count / median:,.0f} | {sshd_median / median:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    print(report(asyncio.run(run(args.count, args.runs, args.clients)), args.count, args.clients))


if __name__ == "__main__":
    main()
