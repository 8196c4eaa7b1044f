"""Benchmarks of edigate's X12 reader against pyx12 and a bare tokeniser.

Run them with ``scripts/bench`` (``--quick`` for a smoke check, ``--write-docs``
to record the results in docs/benchmarks.md). Generated data goes to
``bench/data/`` (git-ignored). Modules: :mod:`bench.generate` (test data),
:mod:`bench.contestants` (the readers compared), :mod:`bench.measure` (timing
and peak RSS), :mod:`bench.run` (the runner) and :mod:`bench.report` (output).
"""

__all__: list[str] = []
