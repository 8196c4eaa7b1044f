"""Deterministic benchmark data: realistic VICS-style 004010 850 purchase orders.

Every file is built with :mod:`edi.writer` (so envelopes, counts and control
numbers are computed by the library, not by hand) from a seeded random
generator: the same :class:`DataSpec` always gives the same bytes. Large files
are written one interchange at a time, so generating 200 MB needs no more
memory than one interchange.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from edi.model import Segment, TransactionSet
from edi.writer import EnvelopeParties, build_group, build_interchange, build_transaction, write

__all__ = ["DATA_DIR", "DataSpec", "ensure_file", "generate", "purchase_order"]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Bumped whenever the generated content changes, so cached files are rebuilt.
GENERATOR_VERSION = 1
_PARTIES = EnvelopeParties("ZZ", "BIGRETAILER", "12", "5551234567")
_EPOCH = datetime(2024, 3, 4, 9, 30)
_COLOURS = ("RED", "NAVY", "BLACK", "WHITE", "HEATHER GREY", "FOREST GREEN", "CORAL", "SKY BLUE")
_ITEMS = ("CREW NECK TEE", "POLO SHIRT", "V-NECK TEE", "HOODIE", "JOGGER PANT", "DENIM JACKET", "SOCKS 3PK")
_SIZES = ("XS", "S", "M", "L", "XL", "2XL")
_CITIES = (
    ("ATLANTA", "GA", "30301"),
    ("COLUMBUS", "OH", "43215"),
    ("RENO", "NV", "89501"),
    ("ALLENTOWN", "PA", "18101"),
    ("DALLAS", "TX", "75201"),
)


@dataclass(frozen=True, slots=True)
class DataSpec:
    """What to generate: ``interchanges`` x ``orders_per_interchange`` 850s."""

    name: str
    orders_per_interchange: int
    interchanges: int = 1
    lines_per_order: int = 50
    seed: int = 850

    @property
    def orders(self) -> int:
        return self.orders_per_interchange * self.interchanges

    @property
    def filename(self) -> str:
        return f"{self.name}-v{GENERATOR_VERSION}.x12"


def _upc(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(11)]
    odd = sum(digits[0::2]) * 3 + sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - odd % 10) % 10)


def purchase_order(rng: random.Random, po_number: int, lines: int) -> list[Segment]:
    """The body (BEG..CTT) of one 850 with ``lines`` PO1/PID/PO4 line items."""
    S = Segment
    ordered = _EPOCH - timedelta(days=rng.randrange(30))
    ship = ordered + timedelta(days=7 + rng.randrange(21))
    store = rng.randrange(1, 900)
    city, state, zip_code = rng.choice(_CITIES)
    body = [
        S("BEG", ["00", rng.choice(("SA", "SA", "RL")), f"PO{po_number:08d}", "", f"{ordered:%Y%m%d}"]),
        S("CUR", ["BY", "USD"]),
        S("REF", ["DP", f"{rng.randrange(1, 99):03d}"]),
        S("REF", ["IA", f"{rng.randrange(10**6, 10**7)}"]),
        S("PER", ["BD", "BUYER DESK", "TE", f"555{rng.randrange(10**6, 10**7)}"]),
        S("FOB", ["PP"]),
        S("ITD", ["01", "3", "2", "", "30", "", "60"]),
        S("DTM", ["010", ship.strftime("%Y%m%d")]),
        S("DTM", ["001", (ship + timedelta(days=14)).strftime("%Y%m%d")]),
        S("TD5", ["", "2", rng.choice(("UPSN", "FDEG", "RDWY")), "M"]),
        S("N1", ["ST", f"STORE {store:04d}", "92", f"{store:04d}"]),
        S("N3", [f"{rng.randrange(100, 9999)} COMMERCE PKWY"]),
        S("N4", [city, state, zip_code, "US"]),
        S("N1", ["BT", "BIGRETAILER ACCOUNTS PAYABLE", "92", "0001"]),
    ]
    for n in range(1, lines + 1):
        qty = rng.randrange(1, 48)
        price = f"{rng.randrange(199, 8999) / 100:.2f}"
        item = f"{rng.choice(_COLOURS)} {rng.choice(_ITEMS)} {rng.choice(_SIZES)}"
        body.append(S("PO1", [str(n), str(qty), "EA", price, "", "UP", _upc(rng)]))
        body.append(S("PID", ["F", "", "", "", item]))
        body.append(S("PO4", [rng.choice(("6", "12", "24"))]))
    body.append(S("CTT", [str(lines)]))
    return body


def _interchange_bytes(spec: DataSpec, index: int) -> bytes:
    rng = random.Random(f"{spec.seed}:{index}")
    first = index * spec.orders_per_interchange
    sets: list[TransactionSet] = [
        build_transaction("850", f"{n + 1:04d}", purchase_order(rng, first + n + 1, spec.lines_per_order))
        for n in range(spec.orders_per_interchange)
    ]
    when = _EPOCH + timedelta(minutes=index)
    group = build_group("PO", "BIGRETAILER", "5551234567", index + 1, "004010VICS", sets, when=when)
    return write(build_interchange(_PARTIES, index + 1, [group], when=when))


def generate(spec: DataSpec, path: Path) -> Path:
    """Write ``spec`` to ``path`` (atomically: a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        for index in range(spec.interchanges):
            out.write(_interchange_bytes(spec, index))
    os.replace(tmp, path)
    return path


def ensure_file(spec: DataSpec, directory: Path = DATA_DIR) -> Path:
    """The generated file for ``spec`` under ``directory``, built on first use."""
    path = directory / spec.filename
    if not path.exists():
        generate(spec, path)
    return path
