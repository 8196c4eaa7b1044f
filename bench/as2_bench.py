"""AS2 inbound benchmark: 10 KB signed+encrypted messages with a signed sync MDN, over HTTP,
into a durable store; against pyas2lib's own parse + MDN in-process, and against the RSA limit.

    python -m bench.as2_bench [--messages N] [--runs R] [--concurrency C] [--size BYTES]

Each round (rounds interleaved, so a busy neighbour slows every contestant alike):

* **edigate**: a separate client process POSTs N pyas2lib-built messages (AES-256-CBC,
  SHA-256 signature, signed MDN requested) to ``POST /as2`` over 127.0.0.1 with C
  connections; the gateway decrypts, verifies, commits the EDI payload and the archived
  transmission to SQLite (a file: durable), signs the MDN and answers. Every reply is
  checked (HTTP 200, signed, ``processed``, a Received-Content-MIC); five per round are
  verified in full by pyas2lib (our signature, and the MIC against its own).
* **pyas2lib**: ``Message.parse`` (decrypt, verify, build the signed MDN) on the same
  messages with the same keys, in this process, no HTTP, no storage.
* **RSA limit**: the time of two RSA-2048 private-key operations per message (one
  key-transport decryption, one MDN signature), measured here with ``cryptography``;
  no AS2 receiver can beat it on one core.

Reports msgs/s (medians), the ratio to pyas2lib (target >= 8x) and the share of the RSA
limit (target >= 50%).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gateway.adapters.as2 import generate_self_signed, install_as2
from gateway.config import Settings
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway

REPO = Path(__file__).resolve().parents[1]
SAMPLE = (REPO / "fixtures/x12/sample-850.edi").read_bytes()
Message = tuple[dict[str, str], bytes]
Reply = tuple[str, dict[str, str], bytes]  # (original Message-ID, MDN headers, MDN body)
_SAMPLE = 5  # replies per round verified in full by pyas2lib (signature and MIC)
_TASKS = Path("/proc/self/task")


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by role (Linux only; empty elsewhere)."""
    if not _TASKS.is_dir():
        return {}
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in _TASKS.iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        name = names.get(int(task.name), "")
        role = (
            "event loop" if name == "MainThread"
            else "crypto threads" if name.startswith("as2-crypto")
            else "SQLite thread" if "_connection_worker_thread" in name
            else "other threads"
        )  # fmt: skip
        out[role] = out.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _payload(size: int) -> bytes:
    head, _, rest = SAMPLE.partition(b"PO1*")
    line = b"PO1*" + rest.split(b"CTT*")[0]
    body = head
    while len(body) < size:
        body += line
    return body + b"CTT*" + rest.split(b"CTT*")[1]


def _profile(tmp: Path) -> dict[str, Any]:
    return {
        "partner_id": "bench-as2",
        "name": "AS2 benchmark partner",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": "ACMERETAIL", "as2_name": "PEER-AS2"},
        "channels": {
            "as2": {
                "url": "http://127.0.0.1:9/as2",
                "our_as2_id": "EDIGATE-AS2",
                "our_key": f"file:{tmp / 'ours.key'}",
                "our_certificate": {"path": str(tmp / "ours.pem")},
                "partner_certificates": [{"path": str(tmp / "peer.pem")}],
                "require_signed": True,
                "require_encrypted": True,
            }
        },
        "documents": [{"direction": "inbound", "type": "850", "format": "x12", "version": "004010"}],
    }


def _client(url: str, messages: list[Message], concurrency: int) -> tuple[float, list[str], list[Reply]]:
    """Runs in a child process: POST every message; return (seconds, problems, sample replies).

    Every reply is checked (HTTP 200, a signed MDN, disposition ``processed``, a
    Received-Content-MIC); the first few are returned for a full check by pyas2lib.
    """
    import aiohttp

    async def run() -> tuple[float, list[str], list[Reply]]:
        problems: list[str] = []
        sample: list[Reply] = []
        queue = list(messages)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                while queue:
                    headers, body = queue.pop()
                    async with session.post(url, headers=headers, data=body) as response:
                        reply = await response.read()
                        signed = response.headers.get("Content-Type", "").startswith("multipart/signed")
                        processed = b"; processed\r\n" in reply and b"Received-Content-MIC: " in reply
                        if response.status != 200 or not signed or not processed:
                            problems.append(f"HTTP {response.status}: {reply[:120]!r}")
                        elif len(sample) < _SAMPLE:
                            sample.append((headers["Message-ID"], dict(response.headers), reply))

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started, problems, sample

    return asyncio.run(run())


def _verify_sample(sample: list[Reply], sent: dict[str, Any]) -> None:
    """pyas2lib verifies sampled MDNs in full: our signature, and the MIC it computed itself."""
    from tests.support.pyas2_peer import as2, raw_http

    for message_id, headers, body in sample:
        message = sent[message_id.strip("<>")]
        status, detail = as2.Mdn().parse(
            raw_http(headers, body), find_message_cb=lambda _m, _r, found=message: found
        )
        if (status, detail) != ("processed", None):
            raise RuntimeError(f"pyas2lib does not accept our MDN for {message_id}: {status} {detail}")


def _pyas2lib_round(messages: list[Message], keys: dict[str, bytes]) -> float:
    from tests.support.pyas2_peer import organization, parse_message, partner, raw_http

    org = organization("EDIGATE-AS2", keys["ours.key"], keys["ours.pem"])
    sender = partner("PEER-AS2", keys["peer.pem"], sign=True, encrypt=True)
    started = time.perf_counter()
    for headers, body in messages:
        _, status, exception, mdn = parse_message(raw_http(headers, body), org, sender)
        if status != "processed" or mdn is None:
            raise RuntimeError(f"pyas2lib refused a benchmark message: {exception}")
        _ = mdn.headers, mdn.content  # the MDN as it would go on the wire
    return time.perf_counter() - started


def _rsa_round(key: rsa.RSAPrivateKey, count: int) -> float:
    wrapped = key.public_key().encrypt(os.urandom(32), padding.PKCS1v15())
    started = time.perf_counter()
    for _ in range(count):
        key.decrypt(wrapped, padding.PKCS1v15())
        key.sign(b"signed attributes of the MDN", padding.PKCS1v15(), hashes.SHA256())
    return time.perf_counter() - started


def _build(
    keys: dict[str, bytes], payload: bytes, count: int, sent: dict[str, Any] | None = None
) -> list[Message]:
    from tests.support.pyas2_peer import build, organization, partner

    org = organization("PEER-AS2", keys["peer.key"], keys["peer.pem"])
    to_us = partner(
        "EDIGATE-AS2", keys["ours.pem"], sign=True, encrypt=True, enc_alg="aes_256_cbc",
        digest_alg="sha256", mdn_mode="SYNC", mdn_digest_alg="sha256",
    )  # fmt: skip
    out = []
    for _ in range(count):
        headers, body, message = build(org, to_us, payload, content_type="application/edi-x12")
        out.append((headers, body))
        if sent is not None:
            sent[message.message_id] = message
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="as2-bench-"))
    keys: dict[str, bytes] = {}
    for who in ("ours", "peer"):
        keys[f"{who}.key"], keys[f"{who}.pem"] = generate_self_signed(who)
        for suffix in ("key", "pem"):
            (tmp / f"{who}.{suffix}").write_bytes(keys[f"{who}.{suffix}"])
    (tmp / "partners").mkdir()
    (tmp / "partners/bench-as2.yaml").write_text(yaml.safe_dump(_profile(tmp)))
    payload = _payload(args.size)
    sent: dict[str, Any] = {}
    rounds = [_build(keys, payload, args.messages, sent) for _ in range(args.runs + 1)]  # +1: warm-up
    settings = Settings(
        database_url=f"sqlite:///{tmp}/bench.db",
        partners_dir=tmp / "partners",
        mappings_dir=REPO / "mappings",
        var_dir=tmp / "var",
        spool_dir=tmp / "spool",
        filedrop_dir=tmp / "filedrop",
    )
    gw = await Gateway.open(settings)
    app = web.Application()
    install_as2(app, store=gw.store, profiles=gw.registry, receive=gw.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/as2"
    key = load_pem_private_key(keys["ours.key"], None)
    assert isinstance(key, rsa.RSAPrivateKey)
    pool = multiprocessing.get_context("spawn").Pool(1)
    loop = asyncio.get_running_loop()
    edigate, pyas2lib, rsa_limit = [], [], []
    cpu: dict[str, list[float]] = {}  # ms of CPU per message, by thread role, per round
    try:
        for index, messages in enumerate(rounds):
            batch: list[Message] = messages
            before = _thread_cpu()
            seconds, problems, sample = await loop.run_in_executor(
                None, pool.apply, _client, (url, batch, args.concurrency)
            )
            after = _thread_cpu()
            if problems:
                raise RuntimeError(f"{len(problems)} bad replies, first: {problems[0]}")
            _verify_sample(sample, sent)
            if index == 0:
                continue  # warm-up: imports, key cache, connection pool, SQLite file
            edigate.append(args.messages / seconds)
            for role, spent in after.items():
                cpu.setdefault(role, []).append(1000 * (spent - before.get(role, 0.0)) / args.messages)
            pyas2lib.append(args.messages / _pyas2lib_round(messages, keys))
            rsa_limit.append(args.messages / _rsa_round(key, args.messages))
        stored = await gw.store.list_payloads(
            MessageFilter(partner_id="bench-as2", channel="as2", limit=100_000)
        )
        if len(stored) != args.messages * len(rounds):
            raise RuntimeError(f"{len(stored)} EDI payloads stored, expected {args.messages * len(rounds)}")
    finally:
        pool.close()
        await runner.cleanup()
        await gw.stop()
    return {
        "edigate": statistics.median(edigate),
        "pyas2lib": statistics.median(pyas2lib),
        "rsa_limit": statistics.median(rsa_limit),
        "size": len(payload),
        "raw": {"edigate": edigate, "pyas2lib": pyas2lib, "rsa_limit": rsa_limit},
        "cpu": {role: statistics.median(values) for role, values in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--size", type=int, default=10 * 1024)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    e, p, r = result["edigate"], result["pyas2lib"], result["rsa_limit"]
    raw = result["raw"]

    def rounds(name: str) -> str:
        return ", ".join(f"{x:.1f}" for x in raw[name])

    print(f"AS2 inbound, {result['size']} B signed+encrypted (AES-256-CBC, SHA-256), signed sync MDN, SQLite")
    print(f"  {args.messages} messages per round, {args.runs} rounds, {args.concurrency} HTTP connections")
    print(f"  cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"  edigate over HTTP     {e:8.1f} msgs/s   (rounds: {rounds('edigate')})")
    print(f"  pyas2lib in-process   {p:8.1f} msgs/s   (rounds: {rounds('pyas2lib')})")
    print(f"  RSA limit (2 ops/msg) {r:8.1f} msgs/s   (rounds: {rounds('rsa_limit')})")
    if result["cpu"]:  # the gateway's CPU per message, by thread (the steadier figure under load)
        spent = ", ".join(f"{role} {ms:.2f}" for role, ms in sorted(result["cpu"].items()))
        print(f"  edigate CPU ms/msg    {spent}")
    print(f"  edigate / pyas2lib    {e / p:8.2f}x        target >= 8x: {'met' if e / p >= 8 else 'NOT met'}")
    print(
        f"  edigate / RSA limit   {100 * e / r:8.1f}%        "
        f"target >= 50%: {'met' if e / r >= 0.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
