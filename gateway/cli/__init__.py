"""The ``edigate`` command line: the composition root for scripts and support staff."""
