"""Direction of effect: more agents help callers, more load keeps agents busier."""

from __future__ import annotations

import numpy as np

from analysis.stats import t_interval
from sim.model import simulate

REPS = 4


def paired(a_scen, b_scen, kpi):
    """Paired differences b - a over replications (common random numbers)."""
    return [simulate(b_scen, seed=21, replication=k).kpis[kpi]
            - simulate(a_scen, seed=21, replication=k).kpis[kpi] for k in range(REPS)]


def test_more_agents_lower_asa_and_abandonment(base):
    """Ten more agents lower ASA and abandonment in every replication."""
    a = base.replace({"horizon.days": 2})
    b = a.replace({"staffing.agents": sum(a.staffing.head_counts().values()) + 10})
    for kpi in ("asa_s", "abandon_rate"):
        d = paired(a, b, kpi)
        assert max(d) < 0, f"more agents did not lower {kpi}: differences {d}"


def test_more_load_higher_occupancy(base):
    """Twenty per cent more calls raise occupancy (paired 99% CI entirely above zero)."""
    a = base.replace({"horizon.days": 2})
    b = a.replace({"demand.calls_per_day": a.demand.calls_per_day * 1.2})
    d = paired(a, b, "occupancy")
    ci = t_interval(d, 0.99)
    assert ci.ci_low > 0, f"occupancy differences {np.round(d, 4)}, CI {ci}"
