"""ccsim import-acd: an ACD interval report in, a scenario of one's own centre out."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from analysis.acd import AcdError, estimate, import_report, read_report
from analysis.cli import main
from sim.model import simulate
from sim.scenario import format_clock, load_scenario
from tests.conftest import SCENARIOS

BASE = SCENARIOS / "base.toml"
HEADER = "date,interval,offered,answered,abandoned,aht,asa\n"
DOW = {0: 1.2, 1: 1.0, 2: 0.95, 3: 0.95, 4: 0.9}  # Monday busiest (known answer)
WEEKS, CALLS, CV = 3, 7000.0, 0.1


def synthetic(tmp_path, seed=7):
    """Three weeks of weekdays from base's profile, known day-of-week factors and CV."""
    base = load_scenario(BASE)
    w = np.asarray(base.demand.profile, float)
    rng = np.random.default_rng(seed)
    lines, mean_factor = [HEADER], np.mean(list(DOW.values()))
    day = dt.date(2018, 3, 5)  # a Monday
    for _ in range(WEEKS * 7):
        if day.weekday() in DOW:
            busy = rng.gamma(1 / CV**2, CV**2)
            lam = CALLS * DOW[day.weekday()] / mean_factor * busy * w / w.sum()
            for i, n in enumerate(rng.poisson(lam)):
                ab = rng.binomial(n, 0.05)
                start = format_clock(8 * 3600 + 900 * i)
                aht = f"{rng.normal(300, 10):.1f}" if n - ab else ""
                lines.append(f"{day},{start},{n},{n - ab},{ab},{aht},{rng.uniform(5, 15):.1f}\n")
        day += dt.timedelta(days=1)
    p = tmp_path / "acd.csv"
    p.write_text("".join(lines))
    return p, w / w.max()


def test_synthetic_report_gives_back_its_profile_factors_and_volume(tmp_path):
    """Profile, day-of-week factors, volume and busyness come back within sampling error."""
    path, profile = synthetic(tmp_path)
    rep = read_report(path)
    est = estimate(rep, load_scenario(BASE), source=path.name)
    n_days = WEEKS * 5
    assert est.days == n_days and est.interval_minutes == 15
    assert format_clock(est.open_s) == "08:00" and est.hours == 12
    # each slot's mean over 15 days: Poisson and day noise, relative sd <= ~4% at the
    # smallest weights; 5 sd of the peak-normalised weights
    got = np.asarray(est.profile)
    sd = np.sqrt(1 / (CALLS * profile / profile.sum() * n_days) + CV**2 / n_days)
    assert np.all(np.abs(got - profile) <= 5 * sd * np.maximum(profile, got) + 0.02)
    # mean calls per day: the day-of-week mix has mean 1; sd CALLS*sqrt(CV^2 + dow var)/sqrt(n)
    spread = CALLS * math.sqrt(CV**2 + np.var(list(DOW.values())) / 1.0) / math.sqrt(n_days)
    assert abs(est.calls_per_day - CALLS) < 3 * spread
    mean_factor = np.mean(list(DOW.values()))
    for k, f in DOW.items():  # 3 days each: sd ~ CV / sqrt(3) of the factor
        assert abs(est.dow_factors[("Mon", "Tue", "Wed", "Thu", "Fri")[k]] - f / mean_factor) \
            < 3 * CV / math.sqrt(WEEKS) * f, est.dow_factors
    assert 0.02 < est.busyness_cv < 0.2  # 10 residual degrees of freedom: rough
    ans = rep[rep["answered"] > 0]
    assert est.aht_s == pytest.approx((ans["aht"] * ans["answered"]).sum() / ans["answered"].sum())
    assert est.talk_mean_s / est.aht_s == pytest.approx(255 / 300)
    assert est.abandon_rate == pytest.approx(0.05, abs=0.005)


def test_written_scenario_loads_runs_and_names_what_was_not_in_the_schema(tmp_path, capsys):
    """`ccsim import-acd` writes a scenario extending base that loads and runs a day."""
    path, _ = synthetic(tmp_path)
    out = tmp_path / "scen" / "mine.toml"
    assert main(["import-acd", str(path), "--out", str(out), "--base", str(BASE)]) == 0
    printed = capsys.readouterr().out
    assert "day-of-week factors" in printed and "Mon" in printed and str(out) in printed
    text = out.read_text()
    assert "# Day-of-week factors" in text and "extends = " in text
    s = load_scenario(out)
    assert s.name == "mine" and len(s.demand.profile) == 48
    assert s.staffing == load_scenario(BASE).staffing  # the rest is the base's
    assert simulate(s.replace({"horizon.days": 1}), seed=1).kpis["answered"] > 0
    assert main(["import-acd", str(path), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["import-acd", str(path), "--out", str(out), "--base", str(BASE),
                 "--force"]) == 0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """An interval report of 10 days of base.toml (true patience 180 s, exponential)."""
    s = load_scenario(BASE, {"horizon.days": 10})
    r = simulate(s, seed=4)
    c = r.calls[r.calls["outcome"] == "answered"]
    aht = (c["talk_s"] + c["acw_s"]).groupby([c["day"], c["interval"]]).mean()
    rows = ["date,interval,offered,answered,abandoned,aht,asa,agents\n"]
    for t in r.intervals.itertuples():
        day = dt.date(2018, 3, 5) + dt.timedelta(days=int(t.day) + 2 * (int(t.day) // 5))
        a = aht.get((t.day, t.interval), math.nan)
        rows.append(f"{day},{format_clock(t.start_s % 86400)},{int(t.offered)},"
                    f"{int(t.answered)},{int(t.abandoned)},{'' if math.isnan(a) else a:.6}"
                    f",{t.asa_s:.3f},{t.agents_on_queue:.3f}\n")
    p = tmp_path_factory.mktemp("acd") / "base.csv"
    p.write_text("".join(rows))
    return p, r


def test_patience_first_estimates_on_a_simulated_report(simulated, tmp_path):
    """The rough patience estimates land near base's 180 s.

    ASA: within 25%; Erlang A on the intervals loaded under 90%: within a factor of 2, and
    above, as documented.
    """
    path, r = simulated
    base = load_scenario(BASE)
    rep = read_report(path)
    est = estimate(rep, base)
    assert est.patience_method.startswith("offered x ASA")
    assert 135 < est.patience_s < 225, est.patience_s
    assert est.calls_per_day == pytest.approx(r.kpis["offered"] / 10)
    est_a = estimate(rep.drop(columns="asa"), base)
    assert est_a.patience_method.startswith("Erlang A")
    assert 180 < est_a.patience_s < 360, est_a.patience_s
    none = estimate(rep.drop(columns=["asa", "agents"]), base)
    assert none.patience_s is None and "no agents or asa" in none.patience_method
    out = tmp_path / "mine.toml"
    _, s = import_report(path, out, BASE)
    assert s.calls.patience.mean_s == pytest.approx(est.patience_s, abs=0.5)


GOOD = HEADER + "2018-03-05,08:00,10,9,1,300,12\n2018-03-05,08:15,12,12,0,290,8\n"
BAD = [
    # (what, text, fragments of the message)
    ("no header column", GOOD.replace(",abandoned", ",dropped"),
     ["'abandoned'", "header", "required"]),
    ("bad date", GOOD.replace("2018-03-05,08:15", "05.03.2018,08:15"),
     ["row 2 (line 3)", "'date'", "'05.03.2018'", "YYYY-MM-DD"]),
    ("bad interval", GOOD.replace("08:15", "8.15"),
     ["row 2 (line 3)", "'interval'", "'8.15'", "HH:MM"]),
    ("negative offered", GOOD.replace(",12,12,0,", ",-12,12,0,"),
     ["row 2", "'offered'", "'-12'", "whole number"]),
    ("answered over offered", GOOD.replace(",10,9,1,", ",10,10,1,"),
     ["row 1 (line 2)", "'offered'", "answered (10) + abandoned (1)"]),
    ("aht missing when answered", GOOD.replace(",290,", ",,"),
     ["row 2", "'aht'", "''", "required when calls were answered"]),
    ("aht not a number", GOOD.replace(",300,", ",5 min,"),
     ["row 1", "'aht'", "'5 min'", "seconds"]),
    ("asa negative", GOOD.replace(",300,12", ",300,-3"), ["row 1", "'asa'", "'-3'"]),
    ("duplicate interval", GOOD + "2018-03-05,08:00,3,3,0,280,5\n",
     ["row 3", "'interval'", "08:00 appears twice"]),
    ("off the grid", GOOD + "2018-03-05,08:20,3,3,0,280,5\n", ["'interval'", "08:20", "grid"]),
    ("short row", GOOD + "2018-03-05,08:30,3\n", ["row 3 (line 4)", "3 cells"]),
    ("empty", "", ["empty", "header"]),
    ("header only", HEADER, ["no data rows"]),
]


@pytest.mark.parametrize("what,text,fragments", BAD, ids=[b[0] for b in BAD])
def test_malformed_reports_name_file_row_column_and_value(tmp_path, capsys, what, text,
                                                          fragments):
    """Each malformed report is one clear error (AcdError, exit status 2 from the CLI)."""
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(AcdError) as info:
        estimate(read_report(p), load_scenario(BASE), source=str(p))
    msg = str(info.value)
    assert "bad.csv" in msg, msg
    for frag in fragments:
        assert frag in msg, f"{what}: {frag!r} not in {msg!r}"
    out = tmp_path / "x.toml"
    assert main(["import-acd", str(p), "--out", str(out), "--base", str(BASE)]) == 2
    assert "ccsim import-acd: error:" in capsys.readouterr().err and not out.exists()


def test_semicolons_decimal_commas_and_interval_ranges_are_read(tmp_path):
    """A European export (';', decimal commas, '08:00-08:15') reads like the plain one."""
    p = tmp_path / "eu.csv"
    p.write_text("Date;Interval;Offered;Answered;Abandoned;AHT;Extra\n"
                 "2018-03-05;08:00-08:15;10;9;1;300,5;x\n2018-03-05;08:15-08:30;12;12;0;290;y\n")
    rep = read_report(p)
    assert rep["aht"].tolist() == [300.5, 290.0] and rep["start_s"].tolist() == [28800, 29700]
