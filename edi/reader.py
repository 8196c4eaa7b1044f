"""Streaming reader: envelopes, counts and control numbers over the lexer's tokens.

One walk over the input does three jobs, each optional but the first:

* keeps :mod:`edi.summary` summaries and envelope findings (pairing, counts,
  control numbers, duplicates, header field formats);
* hands every complete transaction set to a *set validator* (schema
  validation lives in :mod:`edi.validator`; the reader only calls it);
* builds the :mod:`edi.model` tree, one interchange at a time.

Only unreadable input raises (:class:`edi.errors.UnreadableInput`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from edi.delimiters import Delimiters
from edi.envelope_rules import check_gs, check_isa, check_st
from edi.findings import Code, Finding, Location, Severity
from edi.lexer import DEFAULT_CHUNK_SIZE, Lexer, Source
from edi.model import FunctionalGroup, Interchange, Segment, TransactionSet
from edi.summary import GroupSummary, InterchangeSummary, TransactionSummary

__all__ = ["ParseResult", "Reader", "SetValidator", "iter_interchanges", "parse", "read_summary"]

#: ``(segments ST..SE, delimiters, GS08 version, interchange, group, transaction)`` ->
#: findings, or ``None`` when there is no schema for that set and version.
SetValidator = Callable[[list[Segment], Delimiters, str, int, int, int], "list[Finding] | None"]

_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_SERVICE = frozenset({"TA1", "ISB", "ISE", "ISX", "TA3"})


@dataclass(slots=True)
class ParseResult:
    interchanges: list[Interchange]
    summaries: list[InterchangeSummary]
    findings: list[Finding]

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


@dataclass(slots=True)
class _Set:
    summary: TransactionSummary
    index: int
    segments: list[Segment] | None
    findings_from: int  # index into the findings list where this set's findings start
    count: int = 1


@dataclass(slots=True)
class _Group:
    summary: GroupSummary
    index: int
    header: Segment
    model: FunctionalGroup | None
    set_numbers: set[str] = field(default_factory=set)


class Reader:
    """Walk ``source`` once. Iterate over :meth:`interchanges` or :meth:`walk` (or call :meth:`run`).

    ``build=True`` yields :class:`~edi.model.Interchange` trees; otherwise the
    walk keeps only summaries and findings, in bounded memory.

    Control numbers: ISA13 must be unique in the file, GS06 in its interchange and
    ST02 in its group (errors, as X12 scopes them). A GS06 that the same
    application sender (GS02) already used in another interchange of the file is a
    warning: X12 allows it, but it usually means a group was sent twice. ST02
    values repeating in other groups are normal (each group counts from 1) and
    are not reported.
    """

    def __init__(
        self,
        source: Source,
        *,
        validator: SetValidator | None = None,
        build: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._lexer = Lexer(source, chunk_size)
        self._validator = validator
        self._build = build
        self._own: list[Finding] = []
        self._taken = [0, 0]  # how far interchange_findings() has read the lexer's and own findings
        self.summaries: list[InterchangeSummary] = []

    @property
    def findings(self) -> list[Finding]:
        """Every finding, by interchange, then interchange-level before group-level ones.

        Within that order: framing findings from the lexer first, then envelope and
        schema findings in the order they were found.
        """
        return sorted(
            [*self._lexer.findings, *self._own],
            key=lambda f: (
                f.location.interchange or 0,
                f.location.group if f.location.group is not None else -1,
            ),
        )

    def interchange_findings(self, index: int) -> list[Finding]:
        """The findings of interchange ``index`` found so far, each returned once.

        For streaming consumers: call it with increasing indexes, after the
        interchange is complete (findings of a later interchange are never
        returned for an earlier one; those of earlier indexes are skipped).
        Data found after the interchange (padding, junk before the next ISA) is
        only reported once the walk has gone past it.
        """
        out: list[Finding] = []
        for n, source in enumerate((self._lexer.findings, self._own)):
            i = self._taken[n]
            while i < len(source) and (source[i].location.interchange or 0) <= index:
                if (source[i].location.interchange or 0) == index:
                    out.append(source[i])
                i += 1
            self._taken[n] = i
        return sorted(out, key=lambda f: f.location.group if f.location.group is not None else -1)

    def run(self) -> list[InterchangeSummary]:
        for _ in self.walk():
            pass
        return self.summaries

    def interchanges(self) -> Iterator[Interchange]:
        """Each interchange's model as it completes (with ``build=True``; nothing otherwise)."""
        for _, model in self.walk():
            if model is not None:
                yield model

    # The walk is one loop with explicit state: a hot path for set bodies and
    # small handlers for the six envelope segments.
    def walk(self) -> Iterator[tuple[InterchangeSummary, Interchange | None]]:
        """Each interchange's summary (and model, with ``build=True``) as it completes."""
        lexer = self._lexer
        findings = self._own
        collect = self._build or self._validator is not None
        seen_isa: set[str] = set()
        #: (GS02, GS06) -> interchange index of its first use, for file-wide duplicates.
        seen_gs: dict[tuple[str, str], int] = {}
        damaged = False  # the current interchange's ISA could not be read
        ix: InterchangeSummary | None = None
        model: Interchange | None = None
        group: _Group | None = None
        cur: _Set | None = None
        es = "*"
        ipos = 0  # segment position within the interchange, ISA = 1
        orphan = False  # inside an ST that has no GS: skip to its SE

        def add(
            code: Code,
            message: str,
            loc: Location,
            value: str | None = None,
            severity: Severity = Severity.ERROR,
        ) -> None:
            findings.append(Finding(code, message, loc, severity, value))

        def where(segment_id: str, element: int | None = None) -> Location:
            return Location(ix_index, group.index if group else None, None, ipos, segment_id, element)

        def close_set(trailer: Segment | None) -> None:
            nonlocal cur
            assert cur is not None
            assert group is not None
            s = cur
            cur = None
            loc = Location(ix_index, group.index, s.index, s.count, "SE")
            if trailer is None:
                add(
                    Code.SE_MISSING,
                    f"transaction set {s.summary.control_number} has no SE trailer",
                    Location(ix_index, group.index, s.index, s.count),
                )
            else:
                declared = trailer.get(1)
                if declared != str(s.count):
                    add(
                        Code.SE_COUNT,
                        f"SE01 says {declared or 'nothing'} segments but the set has {s.count}",
                        Location(**{**loc.as_dict(), "element": 1}),
                        declared,
                    )
                if trailer.get(2) != s.summary.control_number:
                    add(
                        Code.SE_CONTROL_MISMATCH,
                        f"SE02 {trailer.get(2)!r} does not match ST02 {s.summary.control_number!r}",
                        Location(**{**loc.as_dict(), "element": 2}),
                        trailer.get(2),
                    )
                if s.segments is not None:
                    s.segments.append(trailer)
                    if self._validator is not None:
                        result = self._validator(
                            s.segments,
                            lexer.delimiters or Delimiters(),
                            group.summary.version,
                            ix_index,
                            group.index,
                            s.index,
                        )
                        if result is None:
                            add(
                                Code.SET_UNSUPPORTED,
                                f"no schema for {s.summary.set_id} version {group.summary.version!r}: "
                                "envelope checked only",
                                Location(ix_index, group.index, s.index),
                                severity=Severity.INFO,
                            )
                        else:
                            findings.extend(result)
            s.summary.segments = s.count
            if any(f.is_error for f in findings[s.findings_from :]):
                s.summary.valid = False
            if group.model is not None and s.segments is not None:
                group.model.transactions.append(TransactionSet(s.segments))

        def close_group(trailer: Segment | None) -> None:
            nonlocal group
            assert group is not None
            assert ix is not None
            g = group
            if cur is not None:
                close_set(None)
            if trailer is None:
                add(
                    Code.GE_MISSING,
                    f"functional group {g.summary.control_number} has no GE trailer",
                    Location(ix_index, g.index),
                )
            else:
                n = len(g.summary.transactions)
                if trailer.get(1) != str(n):
                    add(
                        Code.GE_COUNT,
                        f"GE01 says {trailer.get(1) or 'nothing'} sets but the group has {n}",
                        Location(ix_index, g.index, None, ipos, "GE", 1),
                        trailer.get(1),
                    )
                if trailer.get(2) != g.summary.control_number:
                    add(
                        Code.GE_CONTROL_MISMATCH,
                        f"GE02 {trailer.get(2)!r} does not match GS06 {g.summary.control_number!r}",
                        Location(ix_index, g.index, None, ipos, "GE", 2),
                        trailer.get(2),
                    )
            if g.model is not None:
                g.model.trailer = trailer
            group = None

        def close_interchange(trailer: Segment | None) -> tuple[InterchangeSummary, Interchange | None]:
            nonlocal ix, model
            assert ix is not None
            if group is not None:
                close_group(None)
            if trailer is None and damaged:
                pass  # the lexer reported the unreadable ISA and skipped the interchange
            elif trailer is None:
                add(
                    Code.IEA_MISSING,
                    f"interchange {ix.control_number} has no IEA trailer",
                    Location(ix_index),
                )
            else:
                n = len(ix.groups)
                if trailer.get(1) != str(n):
                    add(
                        Code.IEA_COUNT,
                        f"IEA01 says {trailer.get(1) or 'nothing'} groups but there are {n}",
                        Location(ix_index, None, None, ipos, "IEA", 1),
                        trailer.get(1),
                    )
                if trailer.get(2) != ix.control_number:
                    add(
                        Code.IEA_CONTROL_MISMATCH,
                        f"IEA02 {trailer.get(2)!r} does not match ISA13 {ix.control_number!r}",
                        Location(ix_index, None, None, ipos, "IEA", 2),
                        trailer.get(2),
                    )
                ix.complete = True
            done = ix, model
            if model is not None:
                model.trailer = trailer
            ix, model = None, None
            return done

        def texts() -> Iterator[str]:
            """The lexer's segments, with set-body runs counted here in bulk.

            Only segments whose ID starts with S, G or I can be envelope segments.
            Inside a set, a run of other segments is pure body: it is counted (and
            parsed when collecting) without a trip through the per-segment walk.
            """
            nonlocal ipos
            for batch in lexer.batches():
                i = 0
                for j in [k for k, t in enumerate(batch) if t[0] in "SGI"] + [len(batch)]:
                    if cur is not None and j > i:
                        ipos += j - i
                        cur.count += j - i
                        if cur.segments is not None:
                            cur.segments += [Segment.parse(t, es) for t in batch[i:j]]
                        i = j
                    yield from batch[i : j + 1]
                    i = j + 1

        ix_index = -1
        for text in texts():
            ipos += 1
            if cur is not None:
                ch = text[0]
                if ch not in "SGI" or text.partition(es)[0] not in _ENVELOPE:
                    cur.count += 1
                    if cur.segments is not None:
                        cur.segments.append(Segment.parse(text, es))
                    continue
            if text.startswith("ISA") and lexer.interchange_index != ix_index:
                if ix is not None:
                    ipos -= 1
                    yield close_interchange(None)
                ix_index = lexer.interchange_index
                damaged = lexer.damaged
                ipos = 1
                es = lexer.delimiters.element if lexer.delimiters else "*"
                header = Segment.parse(text, es)
                e = header.elements + [""] * max(0, 16 - len(header.elements))
                if not damaged:
                    findings.extend(check_isa(header.elements, Location(ix_index)))
                ix = InterchangeSummary(
                    e[4],
                    e[5].rstrip(),
                    e[6],
                    e[7].rstrip(),
                    e[12],
                    e[11],
                    e[14],
                    e[13] == "1",
                    lexer.delimiters or Delimiters(),
                    e[8],
                    e[9],
                    lexer.interchange_offset,
                )
                self.summaries.append(ix)
                if e[12] in seen_isa and not damaged:
                    add(
                        Code.ISA_DUPLICATE,
                        f"interchange control number {e[12]} is repeated in this file",
                        Location(ix_index, None, None, 1, "ISA", 13),
                        e[12],
                    )
                seen_isa.add(e[12])
                if self._build:
                    model = Interchange(header, lexer.delimiters or Delimiters())
                continue
            seg = Segment.parse(text, es)
            sid = seg.id
            if ix is None:  # cannot happen: the lexer starts every interchange with an ISA
                continue
            if orphan:
                if sid == "SE":
                    orphan = False
                    continue
                if sid not in _ENVELOPE:
                    continue
                orphan = False
            if sid == "ST":
                if group is None:
                    add(
                        Code.SEGMENT_OUTSIDE_ENVELOPE,
                        "ST outside a functional group: set skipped",
                        where("ST"),
                    )
                    orphan = True
                    continue
                if cur is not None:
                    close_set(None)
                index = len(group.summary.transactions)
                ts = TransactionSummary(seg.get(1), seg.get(2), implementation_reference=seg.get(3))
                group.summary.transactions.append(ts)
                cur = _Set(ts, index, [seg] if collect else None, len(findings))
                findings.extend(check_st(seg.elements, Location(ix_index, group.index, index)))
                if ts.control_number in group.set_numbers:
                    add(
                        Code.ST_DUPLICATE,
                        f"transaction set control number {ts.control_number} is repeated in this group",
                        Location(ix_index, group.index, index, 1, "ST", 2),
                        ts.control_number,
                    )
                group.set_numbers.add(ts.control_number)
            elif sid == "SE":
                if cur is None:
                    add(Code.SEGMENT_OUTSIDE_ENVELOPE, "SE without a matching ST", where("SE"))
                else:
                    cur.count += 1
                    close_set(seg)
            elif sid == "GS":
                if group is not None:
                    close_group(None)
                g_index = len(ix.groups)
                e = seg.elements + [""] * max(0, 8 - len(seg.elements))
                gs = GroupSummary(e[0], e[1], e[2], e[5], e[7], e[3], e[4])
                if any(g.control_number == gs.control_number for g in ix.groups):
                    add(
                        Code.GS_DUPLICATE,
                        f"group control number {gs.control_number} is repeated",
                        Location(ix_index, g_index, None, ipos, "GS", 6),
                        gs.control_number,
                    )
                elif (first := seen_gs.get((gs.sender, gs.control_number))) is not None:
                    add(
                        Code.GS_DUPLICATE_IN_FILE,
                        f"group control number {gs.control_number} of sender {gs.sender!r} was already "
                        f"used in interchange {first + 1} of this file",
                        Location(ix_index, g_index, None, ipos, "GS", 6),
                        gs.control_number,
                        Severity.WARNING,
                    )
                seen_gs.setdefault((gs.sender, gs.control_number), ix_index)
                ix.groups.append(gs)
                group_model = FunctionalGroup(seg) if model is not None else None
                if model is not None and group_model is not None:
                    model.groups.append(group_model)
                group = _Group(gs, g_index, seg, group_model)
                findings.extend(check_gs(seg.elements, Location(ix_index, g_index, None, ipos)))
            elif sid == "GE":
                if group is None:
                    add(Code.SEGMENT_OUTSIDE_ENVELOPE, "GE without a matching GS", where("GE"))
                else:
                    close_group(seg)
            elif sid == "IEA":
                yield close_interchange(seg)
            elif sid in _SERVICE and group is None:
                if model is not None:
                    model.service_segments.append(seg)
            else:
                add(
                    Code.SEGMENT_OUTSIDE_ENVELOPE, f"segment {sid} is outside any transaction set", where(sid)
                )
        if ix is not None:
            yield close_interchange(None)


def parse(source: Source, *, validator: SetValidator | None = None) -> ParseResult:
    """Read every interchange of ``source`` into memory, with all findings."""
    reader = Reader(source, validator=validator, build=True)
    interchanges = list(reader.interchanges())
    return ParseResult(interchanges, reader.summaries, reader.findings)


def iter_interchanges(source: Source, *, validator: SetValidator | None = None) -> Iterator[Interchange]:
    """Yield one :class:`Interchange` at a time; memory holds one interchange."""
    return Reader(source, validator=validator, build=True).interchanges()


def read_summary(
    source: Source, *, validator: SetValidator | None = None
) -> tuple[list[InterchangeSummary], list[Finding]]:
    """Stream ``source`` keeping only summaries and findings (bounded memory)."""
    reader = Reader(source, validator=validator, build=False)
    reader.run()
    return reader.summaries, reader.findings
