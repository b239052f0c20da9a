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

#: why time is out of adherence (columns ``lost_<reason>_s`` of agent_days; append only)
LOSS_REASONS: tuple[str, ...] = (
    "login_delay", "call", "late_return", "early_return", "unplanned_break", "other",
)
LossReason = Literal[LOSS_REASONS]  # type: ignore[valid-type]
#: reasons outside the agent's control (the system's log-in delay, a call running into an
#: activity): a warning they cause is "not the agent's fault"
SYSTEM_REASONS: tuple[str, ...] = ("login_delay", "call")
#: who sees an agent's individual numbers (see the measurement section)
MEASUREMENT_LEVELS: tuple[str, ...] = ("none", "team", "individual", "voluntary")
