"""Skill-based routing against exact results: multi-skill chains, Erlang C and Erlang A.

Each design is simulated by the whole model's build and run (a stationary day: exponential talk, no
ACW, one shift per agent group that outlasts the arrivals, the queue served empty after
closing) over 20 replications with fixed seeds; the replication means of each type's mean
wait and chance of waiting must lie within 3 standard errors of the exact value. The
exact values come from :mod:`sim.planning.multiskill` (the chain of Visschers, Adan and
Weiss 2012, checked here against the chain that keeps every waiting call's type) and
from :mod:`sim.planning.erlang`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.measure.tables import calls_table
from sim.model import build, run
from sim.planning.erlang import erlang_a_metrics, erlang_c_metrics
from sim.planning.multiskill import multiskill_detailed, multiskill_metrics
from sim.scenario import Scenario, scenario_from_dict

AHT = 200.0
MU = 1 / AHT
REPS = 20
#: measured calls and warm-up calls per replication (the designs relax within ~10 AHT)
CALLS, WARMUP = 1200, 250


def design(groups: dict[str, tuple[int, list[str]]], rates: dict[str, float],
           agents: str = "longest_idle", patience_s: float | None = None) -> Scenario:
    """A stationary multi-skill centre: per group (agents, skills), per type its rate."""
    total = sum(rates.values())
    span = (CALLS + WARMUP) / total
    hours = span / 3600
    return scenario_from_dict({
        "name": "multiskill", "description": "stationary multi-skill design",
        "rationale": "validation against exact results",
        "horizon": {"days": 1, "open": "00:00", "hours": hours, "interval_minutes": hours * 60,
                    "warmup_minutes": WARMUP / total / 60},
        "demand": {"calls_per_day": total * span, "profile": [1.0], "busyness_cv": 0.0},
        "calls": {"talk": {"distribution": "exponential", "mean_s": AHT},
                  "acw": {"distribution": "fixed", "mean_s": 0.0},
                  "patience": ({"distribution": "none"} if patience_s is None else
                               {"distribution": "exponential", "mean_s": patience_s})},
        "staffing": {"shifts": {g: {"start": "00:00", "hours": hours, "agents": n}
                                for g, (n, _) in groups.items()}},
        "closing": {"rule": "serve", "max_overtime_minutes": 1440},
        "call_types": {t: {"share": r} for t, r in rates.items()},
        "agent_groups": {g: {"shifts": [g], "skills": sk} for g, (_, sk) in groups.items()},
        "routing": {"agents": agents},
    }, source="test")


def replicate(s: Scenario, seed: int = 11) -> dict[str, np.ndarray]:
    """Per type, per replication: (mean wait of all calls, share that waited, share lost).

    Each replication is the model's build and run; of its collection only the calls table
    is made (the rest of the tables, adherence and KPIs are most of a small run's time).
    """
    out: dict[str, list] = {t: [] for t in s.call_types}
    for rep in range(REPS):
        r = build(s, seed, rep)
        run(r)
        c = calls_table(s, r.days, r.centre)
        c["type"] = pd.Categorical.from_codes(r.centre.types, categories=list(s.call_types))
        c = c[c["counted"]]
        for t, g in c.groupby("type", observed=True):
            out[t].append((g["wait_s"].mean(), (g["wait_s"] > 0).mean(),
                           (g["outcome"] == "abandoned").mean()))
    return {t: np.array(v) for t, v in out.items()}


def assert_within(sim: np.ndarray, exact: float, what: str) -> None:
    """The replication mean lies within 3 standard errors of the exact value."""
    se = sim.std(ddof=1) / math.sqrt(len(sim))
    z = (sim.mean() - exact) / se
    assert abs(z) <= 3, f"{what}: simulated {sim.mean():.4g} +- {se:.2g}, exact {exact:.4g}, " \
        f"z = {z:.2f}"


# W design: A answers type a only, B both, C type b only (one agent each)
W_SKILLS = [{0}, {0, 1}, {1}]
W_RATES = {"a": 0.8 * MU, "b": 1.0 * MU}
W_GROUPS = {"A": (1, ["a"]), "B": (1, ["a", "b"]), "C": (1, ["b"])}


def test_aggregated_chain_equals_the_detailed_chain():
    """The Visschers-Adan-Weiss state gives the same per-type results as every call's type."""
    for skills, theta in (([{0}, {0, 1}, {1}], 0.0), ([{0, 1}, {1}], 1 / 150),
                          ([{0}, {0, 1}, {0, 1}, {1}], 0.0)):
        for rule in ("alis", "random"):
            a = multiskill_metrics(skills, [0.8 * MU, MU], [MU] * len(skills), theta, rule, 6)
            b = multiskill_detailed(skills, [0.8 * MU, MU], [MU] * len(skills), theta, rule, 6)
            for field in ("p_wait", "wait_s", "abandon_rate"):
                assert np.allclose(getattr(a, field), getattr(b, field), rtol=1e-9,
                                   atol=1e-12), (skills, rule, field)


def test_full_flexibility_chain_is_erlang_c_and_a():
    """With every server answering every type the exact chain is Erlang C (and A)."""
    lam = [0.004, 0.008]
    c = erlang_c_metrics(sum(lam), AHT, 3, 20.0)
    m = multiskill_metrics([{0, 1}] * 3, lam, [MU] * 3, limit=80)
    assert np.allclose(m.p_wait, c.p_wait, rtol=1e-9)
    assert np.allclose(m.wait_s, c.asa_s, rtol=1e-6)  # truncated at 80: tail ~ 0.8^80
    a = erlang_a_metrics(sum(lam), AHT, 3, 20.0, 150.0)
    m = multiskill_metrics([{0, 1}] * 3, lam, [MU] * 3, 1 / 150, limit=80)
    assert np.allclose(m.p_wait, a.p_wait, rtol=1e-9)
    assert np.allclose(m.abandon_rate, a.abandon_rate, rtol=1e-9)


@pytest.fixture(scope="module")
def w_runs():
    """The W design under longest-idle-first and random assignment, and the exact values."""
    out = {}
    for agents, rule in (("longest_idle", "alis"), ("random", "random")):
        # load 0.6: 30 waiting calls leave a tail of about 0.6^30 = 2e-7 (40 changes the
        # values by 3e-6 relative)
        exact = multiskill_metrics(W_SKILLS, list(W_RATES.values()), [MU] * 3, rule=rule,
                                   limit=30)
        out[agents] = (replicate(design(W_GROUPS, W_RATES, agents)), exact)
    return out


@pytest.mark.parametrize("agents", ["longest_idle", "random"])
def test_w_design_matches_the_exact_chain(w_runs, agents):
    """Per type, mean wait and chance of waiting match FCFS-ALIS (or random) exactly."""
    sim, exact = w_runs[agents]
    for k, t in enumerate(W_RATES):
        assert_within(sim[t][:, 0], exact.wait_s[k], f"{agents} {t} mean wait")
        assert_within(sim[t][:, 1], exact.p_wait[k], f"{agents} {t} P(wait)")


def test_alis_and_random_differ_only_where_the_chain_says(w_runs):
    """In the W design the two rules differ by less than the CI; fully flexible, not at all."""
    (ls, le), (rs, re_) = w_runs["longest_idle"], w_runs["random"]
    for k, t in enumerate(W_RATES):
        # theory: the rules' exact values are this close, so the runs agree within CI
        assert abs(le.wait_s[k] - re_.wait_s[k]) < 0.02 * le.wait_s[k]
        d = ls[t][:, 0] - rs[t][:, 0]
        se = math.hypot(ls[t][:, 0].std(ddof=1), rs[t][:, 0].std(ddof=1)) / math.sqrt(REPS)
        assert abs(d.mean()) <= 3 * se, f"{t}: {d.mean():.3g} vs se {se:.3g}"
    skills = [{0, 1}] * 3
    a = multiskill_metrics(skills, list(W_RATES.values()), [MU] * 3, rule="alis", limit=40)
    r = multiskill_metrics(skills, list(W_RATES.values()), [MU] * 3, rule="random", limit=40)
    assert np.allclose(a.wait_s, r.wait_s, rtol=1e-12) and np.allclose(a.p_wait, r.p_wait)


def test_full_flexibility_is_erlang_a():
    """Two types, two groups answering both, exponential patience: each type is Erlang A."""
    rates = {"a": 0.004, "b": 0.006}
    s = design({"A": (2, ["a", "b"]), "B": (1, ["a", "b"])}, rates, patience_s=150.0)
    sim = replicate(s, seed=5)
    ex = erlang_a_metrics(sum(rates.values()), AHT, 3, 20.0, 150.0)
    for t in rates:
        assert_within(sim[t][:, 1], ex.p_wait, f"{t} P(wait)")
        assert_within(sim[t][:, 2], ex.abandon_rate, f"{t} abandoned")


def test_no_cross_training_is_independent_erlang_c():
    """Each group answering one type only: each type is its own Erlang C queue."""
    rates = {"a": 0.006, "b": 0.004}
    s = design({"A": (2, ["a"]), "B": (2, ["b"])}, rates)
    sim = replicate(s, seed=6)
    for t in rates:
        ex = erlang_c_metrics(rates[t], AHT, 2, 20.0)
        assert_within(sim[t][:, 0], ex.p_wait * ex.asa_s / ex.p_wait, f"{t} mean wait")
        assert_within(sim[t][:, 1], ex.p_wait, f"{t} P(wait)")


def test_n_design_with_abandonment_matches_the_truncated_chain():
    """N design (A answers both, B type b only) with patience: the exact chain per type."""
    rates = {"a": 0.6 * MU, "b": 1.2 * MU}
    s = design({"A": (1, ["a", "b"]), "B": (1, ["b"])}, rates, patience_s=300.0)
    sim = replicate(s, seed=7)
    ex = multiskill_metrics([{0, 1}, {1}], list(rates.values()), [MU, MU], 1 / 300, limit=40)
    for k, t in enumerate(rates):
        assert_within(sim[t][:, 0], ex.wait_s[k], f"{t} mean wait")
        assert_within(sim[t][:, 1], ex.p_wait[k], f"{t} P(wait)")
        assert_within(sim[t][:, 2], ex.abandon_rate[k], f"{t} abandoned")


def test_static_priority_is_cobhams_formula():
    """One pool, two types, non-preemptive priority: each type's mean wait is Cobham's.

    M/M/c with the same service rate for every type: W_k = C(c, a) / (c mu) /
    ((1 - s_{k-1})(1 - s_k)), s_k the load of the types of priority k and higher over c.
    """
    rates = {"hi": 0.004, "lo": 0.006}
    c = 3
    s = design({"all": (c, ["hi", "lo"])}, rates)
    s = s.replace({"routing.calls": "priority", "call_types.hi.priority": 1})
    sim = replicate(s, seed=8)
    pw = erlang_c_metrics(sum(rates.values()), AHT, c, 20.0).p_wait
    s_hi = rates["hi"] / (c * MU)
    s_all = sum(rates.values()) / (c * MU)
    exact = {"hi": pw / (c * MU) / (1 - s_hi), "lo": pw / (c * MU) / ((1 - s_hi) * (1 - s_all))}
    for t in rates:
        assert_within(sim[t][:, 0], exact[t], f"{t} mean wait")
        assert_within(sim[t][:, 1], pw, f"{t} P(wait)")  # both wait when all are busy
