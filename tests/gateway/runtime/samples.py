"""Distinct, valid 850 interchanges from ACME built from the sample fixture."""

from __future__ import annotations

from pathlib import Path

SAMPLE_850 = (Path(__file__).resolve().parents[3] / "fixtures/x12/sample-850.edi").read_bytes()


def acme_850(n: int) -> bytes:
    """The sample with ISA13/IEA02 = n, GS06/GE02 = n and PO number PO-n."""
    isa13 = f"{n:09d}".encode()
    return (
        SAMPLE_850.replace(b"000004711", isa13)
        .replace(b"*4711*X*", b"*%d*X*" % n)
        .replace(b"GE*1*4711~", b"GE*1*%d~" % n)
        .replace(b"PO-778812", b"PO-%d" % n)
    )
