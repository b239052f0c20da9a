"""How base.toml's shifts were planned (the code is :func:`analysis.plan.budget_plan`).

    .venv/bin/python scenarios/tools/plan_shifts.py [scenario.toml] [--paid-hours 800]

The least shortfall against the Erlang A requirement per interval within a paid-hours
budget and a head count, over candidate 8-, 6- and 4-hour shifts whose agents are on queue
as the schedule publishes their breaks. Kept as a script so the comment in base.toml can be
re-run; ``ccsim plan`` is the planner for your own centre (fewest paid hours for a target,
breaks and days off placed, verified by simulation; docs/schedules.md, Planning).
"""

from __future__ import annotations

import argparse
import sys

from analysis.plan import budget_plan
from sim.scenario import format_clock, load_scenario


def main() -> None:
    """Print the chosen shifts as TOML."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="scenarios/base.toml")
    p.add_argument("--paid-hours", type=float, default=800.0)
    p.add_argument("--max-agents", type=int, default=125)
    args = p.parse_args()
    chosen, note = budget_plan(load_scenario(args.scenario), args.paid_hours, args.max_agents)
    print(note, file=sys.stderr)
    for name, (h, s, n) in chosen.items():
        print(f"# {name}\nstart = \"{format_clock(s * 60)}\"\nhours = {h:g}\nagents = {n}\n")
    print(f"# {sum(n for _, _, n in chosen.values())} agents, "
          f"{sum(h * n for h, _, n in chosen.values()):g} paid hours a day")


if __name__ == "__main__":
    main()
