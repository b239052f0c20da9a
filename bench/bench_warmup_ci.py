"""Would one warm-up shared by the replications make the confidence intervals too narrow?

A nested design: ``--warmups`` K warm-ups (seeds 1..K, each ``sim.model.warm_start``
of its seed), and from each ``--reps`` R replications of ``--days`` measured days that
all start from that one state, as ``ccsim`` did before each replication warmed up on its
own streams. For each scenario's KPIs, and for the paired difference between the two
scenarios (replication k of seed s of both), a one-way analysis of variance between and
within warm-ups gives:

- ``F`` and its p-value: does the warm-up a replication starts from matter?
- the between-warm-up and within-warm-up standard deviations;
- ``too narrow``: how many times the standard error the shared design claims (the spread
  within one warm-up, over R) understates the true one (between plus within over R).

Usage (the figures of docs/experiments.md, "Warm-up"; about 6 CPU-minutes)::

    .venv/bin/python -m bench.bench_warmup_ci scenarios/case/telenor-2018-tmr.toml \\
        scenarios/case/dpa-order.toml --warmups 8 --reps 4 --days 5
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import stats

from sim.model import simulate, warm_start
from sim.scenario import load_scenario

KPIS = ("service_level", "stress_mean", "stress_high_share", "absence_rate")


def nested(path: str, warmups: int, reps: int, days: int) -> np.ndarray:
    """KPIs by (warm-up, replication, KPI): R replications from each of K shared warm-ups."""
    s = load_scenario(path, overrides={"horizon.days": days})
    out = np.full((warmups, reps, len(KPIS)), math.nan)
    for w in range(warmups):
        start = warm_start(s, seed=w + 1, cached=False)  # one state, shared by the R runs
        for r in range(reps):
            k = simulate(s, seed=w + 1, replication=r, start=start).kpis
            out[w, r] = [k.get(n, math.nan) for n in KPIS]
    return out


def anova(x: np.ndarray) -> dict[str, float]:
    """One-way ANOVA of ``x`` (warm-ups by replications): F, p, spreads, understatement."""
    k, r = x.shape
    within = x.var(axis=1, ddof=1).mean()
    between = r * x.mean(axis=1).var(ddof=1)
    f = between / within if within > 0 else math.inf
    sb2 = max(0.0, (between - within) / r)
    return {"F": f, "p": float(stats.f.sf(f, k - 1, k * (r - 1))),
            "sd_between": math.sqrt(sb2), "sd_within": math.sqrt(within),
            "too_narrow": math.sqrt((sb2 + within / r) / (within / r))}


def main(argv: list[str] | None = None) -> None:
    """Print the nested design's analysis for both scenarios and their difference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--warmups", type=int, default=8)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--days", type=int, default=5)
    args = ap.parse_args(argv)
    a = nested(args.a, args.warmups, args.reps, args.days)
    b = nested(args.b, args.warmups, args.reps, args.days)
    print(f"A = {args.a}, B = {args.b}: {args.warmups} warm-ups x {args.reps} replications "
          f"of {args.days} days from each (shared within a warm-up)")
    print(f"{'what':<34}{'KPI':<20}{'F':>7}{'p':>8}{'sd between':>12}{'sd within':>11}"
          f"{'too narrow':>12}")
    for label, x in (("A", a), ("B", b), ("B - A (paired)", b - a)):
        for j, n in enumerate(KPIS):
            if np.isnan(x[..., j]).any():
                continue
            r = anova(x[..., j])
            print(f"{label:<34}{n:<20}{r['F']:>7.2f}{r['p']:>8.3f}{r['sd_between']:>12.4f}"
                  f"{r['sd_within']:>11.4f}{r['too_narrow']:>11.2f}x")


if __name__ == "__main__":
    main()
