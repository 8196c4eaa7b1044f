"""``python -m bench [SUITE] [OPTIONS]``: every benchmark behind one command (``scripts/bench``).

Each suite runs edigate and the tool it competes with in the same run and prints the ratio:

=========  ==========================================================  =====================
suite      what                                                        module
=========  ==========================================================  =====================
x12        X12 reading (envelope-only, full validation) vs pyx12       :mod:`bench.run`
mapping    850 -> canonical, POs per second on one core                :mod:`bench.mapping_bench`
pipeline   small 850s end to end vs raw aio-pika confirmed publishing  :mod:`bench.pipeline_bench`
as2        AS2 receive + signed MDN over HTTP vs pyas2lib              :mod:`bench.as2_bench`
sftp       SFTP ingest through our server vs OpenSSH sshd              :mod:`bench.sftp_bench`
webhook    signed webhook posts to queued documents vs direct receive  :mod:`bench.webhook_bench`
all        each suite above in turn, with its defaults
=========  ==========================================================  =====================

With no suite, or with options only, it is ``x12`` (``python -m bench --quick``). Options after
the suite go to that suite (``python -m bench pipeline --count 500 --db sqlite``); ``--help``
after a suite shows its own options.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

SUITES: dict[str, str] = {
    "x12": "bench.run",
    "mapping": "bench.mapping_bench",
    "pipeline": "bench.pipeline_bench",
    "as2": "bench.as2_bench",
    "sftp": "bench.sftp_bench",
    "webhook": "bench.webhook_bench",
}


def _run(module: str, args: Sequence[str]) -> int:
    """One suite in its own interpreter, so suites never share warm caches or loaded state."""
    return subprocess.call([sys.executable, "-m", module, *args])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help") and len(args) == 1:
        print(__doc__)
        return 0
    if not args or args[0].startswith("-"):
        from bench.run import main as x12_main

        return x12_main(args)
    suite, rest = args[0], args[1:]
    if suite == "all":
        if rest:
            message = "'all' runs every suite with its defaults; give options to one suite at a time"
            print(message, file=sys.stderr)
            return 2
        failed = [name for name, module in SUITES.items() if _run(module, rest) != 0]
        if failed:
            print(f"benchmark suites that failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    module = SUITES.get(suite)
    if module is None:
        print(f"unknown suite {suite!r}; choose one of {', '.join([*SUITES, 'all'])}", file=sys.stderr)
        return 2
    return _run(module, rest)


if __name__ == "__main__":
    sys.exit(main())
