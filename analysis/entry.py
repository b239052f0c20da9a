"""The ``ccsim`` console script: a tiny wrapper around :func:`analysis.cli.main`.

It imports nothing but :mod:`sys` before it is ready for Ctrl-C: a Ctrl-C while the command
line or the model is still being imported, or while the options are read, ends with exit
status 130 and one line, never a traceback. Once a command runs, :func:`analysis.cli.main`
handles interrupts itself (and keeps finished replications).
"""

import os
import sys


def main() -> int:
    """Run ``ccsim`` with ``sys.argv`` and end the process with its exit status.

    Exit status 130 on a Ctrl-C before a command runs. When the command has finished (its
    output flushed, its files written and closed, its workers ended), the process ends at
    once instead of tearing the interpreter down object by object: with numpy, pandas,
    SciPy and pydantic loaded that takes about 0.1 s and changes nothing. Library callers
    use :func:`analysis.cli.main`, which returns.
    """
    try:
        from analysis.cli import main as cli_main

        status = cli_main()
    except KeyboardInterrupt:
        print("\nccsim: interrupted (SIGINT): stopped", file=sys.stderr)
        return 130
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the interpreter exit as usual
        return status
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
