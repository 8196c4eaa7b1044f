"""`edigate serve` on the embedded default: a real process, real HTTP, a clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.gateway.runtime.helpers import alive, analysis_workers

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_serve_runs_the_embedded_default_and_answers_http(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")},
        "EDIGATE_LISTEN__PORT": str(port),
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_MAPPINGS_DIR": str(REPO / "mappings"),
        "SWIFT_3PL_INBOUND_SECRET": "test-only-webhook-secret",
    }
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{base}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    time.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            banner = log.read_text()
            assert "sqlite" in banner
            assert "var/spool" in banner
            assert "admin token" in banner
            assert "collector     gc thresholds 10000/" in banner  # gateway.collector's policy is applied
            cores = len(os.sched_getaffinity(0))
            analysis = "1 process" if cores >= 2 else "a thread of this process"
            assert f"analysis      {analysis} (pipeline.analysis_processes)" in banner
            token_file = tmp_path / "var" / "admin-token"
            assert oct(token_file.stat().st_mode & 0o777) == "0o600"
            token = token_file.read_text()
            assert token not in banner  # the banner names the file, never the token
            async with http.get(f"{base}/readyz") as r:
                assert r.status == 200, await r.text()
            async with http.get(f"{base}/api/v1/messages") as r:
                assert r.status == 401
            headers = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{base}/api/v1/messages", headers=headers) as r:
                assert r.status == 200
            async with http.post(
                f"{base}/as2", data=b"garbage", headers={"AS2-From": "x", "AS2-To": "y"}
            ) as r:
                assert r.status in (200, 400, 404)  # answered with an MDN or an error, by the AS2 endpoint
            async with http.post(f"{base}/webhooks/swift-3pl/shipment_confirmation_json", data=b"{}") as r:
                assert r.status == 401  # the webhook endpoint is mounted and wants a signature
            assert (tmp_path / "var" / "edigate.db").exists()
            workers = analysis_workers(proc.pid)
            assert len(workers) == (1 if cores >= 2 else 0)  # the analysis process, spawned
            sample = str(REPO / "fixtures/x12/sample-850.edi")
            ingest = subprocess.run(
                [sys.executable, "-m", "gateway.cli.main", "ingest", sample, "--partner", "acme-retail"],
                cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            assert ingest.returncode == 0, ingest.stdout + ingest.stderr
            spool = tmp_path / "var" / "spool" / "erp"
            for _ in range(300):  # the running gateway's pipeline takes it, analyses it and routes it
                if spool.is_dir() and any(spool.glob("*.json")):
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"nothing routed to {spool}: {log.read_text()}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    for _ in range(100):  # stopped with the gateway
        if not any(alive(w) for w in workers):
            break
        time.sleep(0.05)
    assert not any(alive(w) for w in workers)


async def test_serve_over_https_with_a_configured_server_certificate(tmp_path: Path) -> None:
    import ssl

    subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli.main",
            "certs",
            "generate",
            "--name",
            "localhost",
            "--out",
            str(tmp_path / "tls"),
        ],
        check=True,
        capture_output=True,
    )
    cert, key = tmp_path / "tls" / "localhost.crt", tmp_path / "tls" / "localhost.key"
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")},
        "EDIGATE_LISTEN__PORT": str(port),
        "EDIGATE_LISTEN__TLS_CERT": str(cert),
        "EDIGATE_LISTEN__TLS_KEY": f"file:{key}",
        "EDIGATE_PARTNERS_DIR": str(REPO / "partners"),
        "EDIGATE_MAPPINGS_DIR": str(REPO / "mappings"),
    }
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    trust.check_hostname = False  # the self-signed test certificate names "localhost"; we dial 127.0.0.1
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"https://127.0.0.1:{port}/healthz", ssl=trust) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    time.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            assert "https://127.0.0.1" in log.read_text()
            async with http.post(
                f"https://127.0.0.1:{port}/as2",
                data=b"garbage",
                ssl=trust,
                headers={"AS2-From": "x", "AS2-To": "y"},
            ) as r:
                assert r.status in (200, 400, 404)
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    plain = r.status
            except aiohttp.ClientError:
                plain = 0
            assert plain != 200  # plain HTTP is not served on the TLS port
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
