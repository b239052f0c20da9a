"""The schema's vocabularies, each stated once, and Literal types built from them.

Activity kinds, schedule states and service-level definitions.
"""

from __future__ import annotations

from typing import Literal

#: planned-activity kinds, each with the IWS Not Ready status it is worked in
ACTIVITY_KINDS: tuple[str, ...] = (
    "break", "lunch", "meeting", "training", "manager_approved", "deferred_transaction",
)
ActivityKind = Literal[ACTIVITY_KINDS]  # type: ignore[valid-type]
#: schedule states adherence compares: on queue (Ready/Talk/ACW) or one activity kind
SCHEDULE_STATES: tuple[str, ...] = ("on_queue", *ACTIVITY_KINDS)
ScheduleState = Literal[SCHEDULE_STATES]  # type: ignore[valid-type]

SL_DEFINITIONS: dict[str, str] = {
    "offered": "answered within T / offered (abandoned and closed calls count against)",
    "answered": "answered within T / answered (ignores abandons)",
    "answered_and_late_abandons": (
        "answered within T / (answered + abandoned or closed after T)"
    ),
    "offered_excluding_short_abandons": (
        "answered within T / (offered - abandoned within the short-abandon time)"
    ),
}

SLDefinition = Literal[tuple(SL_DEFINITIONS)]  # type: ignore[valid-type]
