"""Is ``ccsim import-acd``'s balking estimate biased? Measured over many synthetic reports.

    .venv/bin/python bench/bench_acd_balk.py [--seeds 18] [--first 10]

Each seed simulates the known small centre of ``tests/test_acd.py`` (``TRUTH``: five agents,
exponential talk 180 s and patience 90 s, 10% of callers who would have to wait balk),
writes its ACD report and imports it (``analysis.acd.import_report``, fitted with the
seed's own random numbers). Printed per seed and as means with standard errors:

- ``realised``: the report's own balking, zero-wait abandons over the calls that found
  every agent busy (the ratio the fit matches in its simulations), which scatters about
  0.10 by the binomial draw of who balks;
- ``imported``: the estimate; ``imported - realised``, paired: the estimator's own bias;
- the imported patience and talk (balking is sensitive to the talk estimate: a talk 1%
  longer makes the simulated queue busier and the fitted balking about 5% lower).

A benchmark, not a test (about 1.5 CPU-s a seed); ``tests/test_acd.py`` has the slow test.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.acd import import_report  # noqa: E402
from sim.model import simulate  # noqa: E402
from sim.scenario import scenario_from_dict  # noqa: E402
from tests.conftest import small_dict  # noqa: E402
from tests.test_acd import TRUTH, report_of  # noqa: E402


def realised(calls: pd.DataFrame) -> float:
    """Zero-wait abandons over the calls that found every agent busy (counted calls)."""
    c = calls[calls["counted"]]
    answered_at_once = (c["outcome"] == "answered") & (c["wait_s"] == 0)
    balked = (c["outcome"] == "abandoned") & (c["wait_s"] == 0)
    return float(balked.sum() / max((~answered_at_once).sum(), 1))


def main() -> None:
    """Print the estimates per seed and their means."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=18)
    p.add_argument("--first", type=int, default=10)
    args = p.parse_args()
    truth = scenario_from_dict(TRUTH)
    base = {k: v for k, v in small_dict(horizon__hours=4, demand__profile=[1] * 8,
                                        horizon__interval_minutes=30).items() if k != "name"}
    base["calls"] = {k: TRUTH["calls"][k] for k in ("talk", "acw")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "base.toml").write_text(tomli_w.dumps(base))
        for seed in range(args.first, args.first + args.seeds):
            run = simulate(truth, seed=seed)
            report = folder / f"r{seed}.csv"
            report.write_text(report_of(truth, run))
            est, s = import_report(report, folder / f"m{seed}.toml", folder / "base.toml",
                                   seed=seed)
            rows.append({"seed": seed, "realised": realised(run.calls),
                         "imported": est.balk_probability, "patience_s": est.patience_s,
                         "talk_s": s.calls.talk.mean_s})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows).set_index("seed")
    df["imported - realised"] = df["imported"] - df["realised"]
    n = len(df)
    print(pd.DataFrame({"mean": df.mean(), "se": df.std(ddof=1) / math.sqrt(n)}).round(4))
    print(f"truth: balking {TRUTH['calls']['balk_probability']}, patience 90 s, talk 180 s; "
          f"{n} seeds from {args.first}; realised against 0.10: z = "
          f"{(df['realised'].mean() - 0.1) / (df['realised'].std(ddof=1) / math.sqrt(n)):.2f}; "
          f"imported - realised: z = "
          f"{df['imported - realised'].mean() / (df['imported - realised'].std(ddof=1) / math.sqrt(n)):.2f}")  # noqa: E501
    _ = np  # numpy is pandas' engine here


if __name__ == "__main__":
    main()
