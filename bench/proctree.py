"""A running command's process tree, read from ``/proc`` (Linux): pids and CPU seconds.

Shared by the benchmarks that time whole ``ccsim`` commands (``bench_negotiate``,
``bench_estimate``): a command's CPU includes its pool's fork server and workers and a
headless browser, which ``resource.getrusage`` of the parent sees only once they end.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def processes() -> tuple[dict[int, list[int]], dict[int, float]]:
    """Every process now: its children by parent pid, and its CPU seconds (user + system)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:  # ended while listed
            continue
        fields = raw[raw.rindex(")") + 2:].split()  # the name may hold spaces and ")"
        children.setdefault(int(fields[1]), []).append(int(d))
        cpu[int(d)] = (int(fields[11]) + int(fields[12])) / TICK
    return children, cpu


def tree(root: int, children: dict[int, list[int]]) -> list[int]:
    """``root`` and its descendants, by pid."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out
