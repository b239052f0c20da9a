"""The ``ccsim`` console script: a tiny wrapper around :func:`analysis.cli.main`.

It imports nothing but :mod:`sys` before it is ready for Ctrl-C: a Ctrl-C while the command
line or the model is still being imported, or while the options are read, ends with exit
status 130 and one line, never a traceback. Once a command runs, :func:`analysis.cli.main`
handles interrupts itself (and keeps finished replications).
"""

import sys


def main() -> int:
    """Run ``ccsim`` with ``sys.argv``; exit status 130 on a Ctrl-C before a command runs."""
    try:
        from analysis.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt:
        print("\nccsim: interrupted (SIGINT): stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
