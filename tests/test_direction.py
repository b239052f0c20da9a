"""Direction of effect: more agents help callers, more load keeps agents busier.

One day of base.toml, four replications under common random numbers, is enough power for
both: at seed 21 every paired difference of ASA and abandonment is below zero (ten more
agents) and the occupancy difference's 99% CI is [+0.047, +0.154] (20% more calls); two
days gave the same signs. The baseline is simulated once and read by both tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats import t_interval
from sim.model import simulate

REPS = 4
SEED = 21


@pytest.fixture(scope="module")
def baseline(base):
    """One day of base.toml and its KPIs in replications 0 to REPS - 1."""
    a = base.replace({"horizon.days": 1})
    return a, [simulate(a, seed=SEED, replication=k).kpis for k in range(REPS)]


def paired(baseline, b_scen, kpis) -> dict[str, list[float]]:
    """Paired differences b - baseline per KPI over replications (common random numbers)."""
    _, ka = baseline
    kb = [simulate(b_scen, seed=SEED, replication=k).kpis for k in range(REPS)]
    return {k: [y[k] - x[k] for x, y in zip(ka, kb, strict=True)] for k in kpis}


def test_more_agents_lower_asa_and_abandonment(baseline):
    """Ten more agents lower ASA and abandonment in every replication."""
    a = baseline[0]
    b = a.replace({"staffing.agents": sum(a.staffing.head_counts().values()) + 10})
    for kpi, d in paired(baseline, b, ("asa_s", "abandon_rate")).items():
        assert max(d) < 0, f"more agents did not lower {kpi}: differences {d}"


def test_more_load_higher_occupancy(baseline):
    """Twenty per cent more calls raise occupancy (paired 99% CI entirely above zero)."""
    a = baseline[0]
    b = a.replace({"demand.calls_per_day": a.demand.calls_per_day * 1.2})
    d = paired(baseline, b, ("occupancy",))["occupancy"]
    ci = t_interval(d, 0.99)
    assert ci.ci_low > 0, f"occupancy differences {np.round(d, 4)}, CI {ci}"
