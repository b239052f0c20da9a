"""The behaviour section: agents' deviations from the schedule."""

from __future__ import annotations

from pydantic import (
    model_validator,
)

from sim.scenario.base import _field, _Model
from sim.scenario.sections import Duration
from sim.scenario.vocab import ActivityKind


class ReturnTiming(_Model):
    """How punctually agents come back from one kind of planned activity."""

    late_probability: float = _field(
        0.0, ge=0, le=1, description="Chance of coming back late.", source="assumption",
    )
    late: Duration = _field(
        Duration(distribution="exponential", mean_s=90.0),
        description="How late, when late.", source="assumption (illustrative)",
    )
    early_probability: float = _field(
        0.0, ge=0, le=1, description="Chance of coming back early (the activity is "
        "shortened).", source="assumption",
    )
    early: Duration = _field(
        Duration(distribution="exponential", mean_s=60.0),
        description="How early, when early (at most the activity's length).",
        source="assumption (illustrative)",
    )

    @model_validator(mode="after")
    def _check(self) -> ReturnTiming:
        if self.late_probability + self.early_probability > 1:
            raise ValueError(f"late_probability: late ({self.late_probability}) + early "
                             f"({self.early_probability}) probabilities exceed 1")
        return self


class Behaviour(_Model):
    """How agents deviate from the schedule (each agent draws from its own random stream)."""

    login_delay_min_s: float = _field(
        0.0, ge=0, le=3600, description="Log-in delay (a system delay, not the agent's fault: the "
        "agent is Logged Out meanwhile) is uniform between this and `login_delay_max_s`.",
        source="docs/case.md: logging in took 4 minutes (2016 chat logs)",
    )
    login_delay_max_s: float = _field(
        0.0, ge=0, le=3600, description="Upper end of the uniform log-in delay (0 = none).",
        source="docs/case.md: logging in took 4 minutes (2016 chat logs)",
    )
    returns: dict[ActivityKind, ReturnTiming] = _field(
        {}, description="Late and early returns per activity kind (kinds not listed: on "
        "time).", source="assumption",
    )
    unplanned_breaks_per_hour: float = _field(
        0.0, ge=0, le=60, description='Rate at which a need for an unplanned "Not Ready - '
        'Break" (e.g. a toilet visit) arises while on queue; it is taken at the next call '
        "end (or at once if idle); needs arising in a break or activity are met by it.",
        source="assumption",
    )
    unplanned_break: Duration = _field(
        Duration(distribution="lognormal", mean_s=240.0, cv=0.5),
        description="Length of an unplanned break.", source="assumption (illustrative)",
    )

    @model_validator(mode="after")
    def _check(self) -> Behaviour:
        if self.login_delay_max_s < self.login_delay_min_s:
            raise ValueError(f"login_delay_max_s: {self.login_delay_max_s} is below "
                             f"login_delay_min_s ({self.login_delay_min_s})")
        return self
