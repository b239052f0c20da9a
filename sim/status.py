"""Agent statuses, named as agents see them in the Genesys IWS desktop."""

from __future__ import annotations

from enum import IntEnum


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

#: one row of the status log, as the model appends it (plain tuples are the cheapest
#: record per event): (agent index, time in seconds, ``Status`` value entered)
StatusRow = tuple[int, float, int]
