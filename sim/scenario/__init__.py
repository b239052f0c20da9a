"""The scenario schema: frozen, validated models, and TOML loading with ``extends``.

A scenario is data. It is loaded from TOML (never executed), merged over the file it
``extends``, validated strictly, and frozen. Every error names the file, the dotted field
path, the value and what is allowed, so a user never meets a traceback.

The package keeps one concern per module: ``base`` (errors, clock times, safe names, the
frozen model base), ``vocab`` (activity kinds, schedule states and service-level
definitions, each stated once), ``sections`` (horizon, demand, calls, staffing, service
level, closing), ``schedule``, ``behaviour``, ``model`` (the ``Scenario`` and its
cross-section checks) and ``loading`` (TOML, ``extends``, overrides, error messages).
Policy and stress sections are added as modules of their own.
"""

from sim.scenario.base import (
    DAY_S,
    NAME_MAX,
    Clock,
    SafeName,
    ScenarioError,
    check_name,
    format_clock,
    parse_clock,
)
from sim.scenario.behaviour import Behaviour, ReturnTiming
from sim.scenario.checking import MAX_NESTING
from sim.scenario.loading import (
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    load_scenario,
    read_text_file,
    scenario_from_dict,
)
from sim.scenario.model import Scenario
from sim.scenario.policy import (
    AdherenceRules,
    Measurement,
    MeasurementLevel,
    Monitoring,
    Responses,
    Supervisor,
    Targets,
    Teams,
)
from sim.scenario.schedule import Activity, Schedule
from sim.scenario.sections import (
    Calls,
    Closing,
    Cost,
    Demand,
    Duration,
    Horizon,
    Patience,
    ServiceLevel,
    Shift,
    Staffing,
)
from sim.scenario.stress import Stress
from sim.scenario.vocab import (
    ACTIVITY_KINDS,
    LOSS_REASONS,
    MEASUREMENT_LEVELS,
    SCHEDULE_STATES,
    SL_DEFINITIONS,
    SYSTEM_REASONS,
    ActivityKind,
    LossReason,
    ScheduleState,
    SLDefinition,
)

__all__ = [
    "ACTIVITY_KINDS", "Activity", "ActivityKind", "AdherenceRules", "Behaviour", "Calls",
    "Clock", "Closing", "Cost", "DAY_S", "Demand", "Duration", "Horizon", "LOSS_REASONS",
    "LossReason",
    "MAX_EXTENDS", "MAX_FILE_BYTES", "MAX_NESTING", "MEASUREMENT_LEVELS", "Measurement",
    "MeasurementLevel", "Monitoring", "NAME_MAX", "Patience", "Responses", "ReturnTiming",
    "SCHEDULE_STATES", "SLDefinition", "SL_DEFINITIONS", "SYSTEM_REASONS", "SafeName",
    "Scenario", "ScenarioError", "Schedule", "ScheduleState", "ServiceLevel", "Shift",
    "Staffing", "Stress", "Supervisor", "Targets", "Teams", "check_name", "format_clock",
    "load_scenario",
    "parse_clock", "read_text_file", "scenario_from_dict",
]
