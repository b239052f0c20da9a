"""Agent statuses, named as agents see them in the Genesys IWS desktop."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from enum import IntEnum

import numpy as np


class Status(IntEnum):
    """An agent status; ``label`` is the IWS name. Values are stable: append, never reorder."""

    LOGGED_OUT = 0
    READY = 1
    TALK = 2
    ACW = 3
    NOT_READY_BREAK = 4
    NOT_READY_LUNCH = 5
    NOT_READY_MANAGER_APPROVED = 6
    NOT_READY_MEETING = 7
    NOT_READY_TRAINING = 8
    NOT_READY_DEFERRED_TRANSACTION = 9
    LOG_OFF = 10

    @property
    def label(self) -> str:
        """The name shown on the agent's desktop."""
        return LABELS[self]


LABELS: dict[Status, str] = {
    Status.LOGGED_OUT: "Logged Out",
    Status.READY: "Ready",
    Status.TALK: "Talk",
    Status.ACW: "After Call Work",
    Status.NOT_READY_BREAK: "Not Ready - Break",
    Status.NOT_READY_LUNCH: "Not Ready - Lunch",
    Status.NOT_READY_MANAGER_APPROVED: "Not Ready - Manager Approved",
    Status.NOT_READY_MEETING: "Not Ready - Meeting",
    Status.NOT_READY_TRAINING: "Not Ready - Training",
    Status.NOT_READY_DEFERRED_TRANSACTION: "Not Ready - Deferred Transaction",
    Status.LOG_OFF: "Log Off",
}

#: statuses in which an agent is handling or available for calls (on queue)
ON_QUEUE: frozenset[Status] = frozenset({Status.READY, Status.TALK, Status.ACW})
#: statuses counted as busy with a call (occupancy numerator)
BUSY: frozenset[Status] = frozenset({Status.TALK, Status.ACW})

#: one row of the status log: (agent index, time in seconds, ``Status`` value entered)
StatusRow = tuple[int, float, int]


class StatusLog:
    """The run's status change log, one row per change, as three typed columns.

    ``agent`` (C int), ``t`` (double) and ``status`` (signed char) are ``array.array``
    columns, 13 bytes a row (plus the arrays' growth slack), not a Python tuple of about
    100; :meth:`append` adds a :data:`StatusRow`. Times are stored as the same doubles, so
    reading the log back gives exactly what was appended.
    """

    __slots__ = ("agent", "t", "status")

    def __init__(self, rows: Iterable[StatusRow] = ()) -> None:
        self.agent = array("i")
        self.t = array("d")
        self.status = array("b")
        for row in rows:
            self.append(row)

    def append(self, row: StatusRow) -> None:
        """Add one change ``(agent, time, status)``."""
        a, t, s = row
        self.agent.append(a)
        self.t.append(t)
        self.status.append(s)

    def __len__(self) -> int:
        return len(self.t)

    def __iter__(self) -> Iterator[StatusRow]:
        return zip(self.agent, self.t, self.status, strict=True)

    def columns(self, start: int = 0, consume: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(agent, time, status) of rows ``start:`` as numpy arrays (int32, float64, int8).

        Copies (numpy views of sliced copies), so the log can keep growing; with
        ``consume`` (``start`` 0 only) the log hands its buffers over without copying and
        is left empty.
        """
        if consume:
            if start:
                raise ValueError("columns(consume=True) takes the whole log (start=0)")
            cols = (np.frombuffer(self.agent, dtype=np.int32),
                    np.frombuffer(self.t, dtype=np.float64),
                    np.frombuffer(self.status, dtype=np.int8))
            self.agent, self.t, self.status = array("i"), array("d"), array("b")
            return cols
        return (np.frombuffer(self.agent[start:], dtype=np.int32),
                np.frombuffer(self.t[start:], dtype=np.float64),
                np.frombuffer(self.status[start:], dtype=np.int8))
