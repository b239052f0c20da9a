"""Call types, agent groups and the skill-based router: schema, streams, policies, KPIs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy

from sim.engine.routing_skills import SkillRouter
from sim.measure.kpi import KPIData, compute_kpis, service_level_masks
from sim.measure.skills import skill_tables
from sim.model import simulate
from sim.scenario import ScenarioError, scenario_from_dict
from tests.conftest import small_dict

TYPES = {"tel": {"share": 2}, "mob": {"share": 1, "talk_mean_s": 400, "threshold_s": 30}}
GROUPS = {"g": {"shifts": ["a"], "skills": ["tel", "mob"]},
          "h": {"shifts": ["b"], "skills": ["tel"]}}


def error(**kw) -> str:
    """The message of the error the scenario raises."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(small_dict(**kw), source="x.toml")
    return str(info.value)


def test_errors_name_the_file_field_value_and_what_is_allowed():
    """A type nobody answers, a group with no type, a shift in no group: exact messages."""
    one = {"g": {"shifts": ["a", "b"], "skills": ["tel"]}}
    assert error(call_types=TYPES, agent_groups=one) == (
        "invalid scenario:\n  x.toml: call_types.mob: no agent answers it (no group with "
        "agents has it in its skills); groups: g = ['tel']")
    empty = {"g": {"shifts": ["a"], "skills": []}, "h": {"shifts": ["b"], "skills": ["tel"]}}
    assert error(call_types=TYPES, agent_groups=empty) == (
        "invalid scenario:\n  x.toml: agent_groups.g.skills: empty; a group answers at least "
        "one call type; allowed: tel, mob")
    assert error(call_types=TYPES, agent_groups={"g": GROUPS["g"]}) == (
        "invalid scenario:\n  x.toml: agent_groups: shift 'b' (4 agents) is in no group; "
        "name it in one group's shifts")
    bad = {**GROUPS, "h": {"shifts": ["b"], "skills": ["tel", "fax"]}}
    assert error(call_types=TYPES, agent_groups=bad) == (
        "invalid scenario:\n  x.toml: agent_groups.h.skills: no call type named 'fax'; "
        "allowed: tel, mob")
    assert error(routing={"agents": "random"}).startswith(
        "invalid scenario:\n  x.toml: routing: set without [call_types]")
    assert error(call_types=TYPES).startswith(
        "invalid scenario:\n  x.toml: agent_groups: missing;")


def test_one_type_one_group_routes_exactly_as_the_single_queue():
    """One type and one group of every shift: the skill router's run equals FIFO's, call by call."""
    for acw_callout in (False, True):
        base = small_dict(calls={"acw_callout": acw_callout,
                                 "patience": {"distribution": "exponential", "mean_s": 120}})
        plain = simulate(scenario_from_dict(base), seed=4)
        typed = simulate(scenario_from_dict({
            **base, "call_types": {"all": {"share": 1}},
            "agent_groups": {"all": {"shifts": ["a", "b"], "skills": ["all"]}}}), seed=4)
        assert typed.calls.drop(columns="type").equals(plain.calls)
        assert typed.statuses.equals(plain.statuses)


@pytest.fixture(scope="module")
def two_types():
    """A day of the small centre with two types (and repeat calls), and the same without."""
    d = small_dict(calls={"repeat_probability": 0.3, "repeat_delay_hours": 0.3},
                   demand={"calls_per_day": 400, "profile": [1, 2, 2, 1]})
    typed = scenario_from_dict({**d, "call_types": TYPES, "agent_groups": GROUPS})
    return typed, simulate(typed, seed=2), simulate(scenario_from_dict(d), seed=2)


def test_types_come_from_their_own_stream(two_types):
    """With two types the first calls arrive exactly as without; only mob's talk is scaled."""
    _, typed, plain = two_types
    n = int((typed.calls["repeat_of"] < 0).sum())
    t, p = typed.calls.iloc[:n], plain.calls.iloc[:n]
    assert n == int((plain.calls["repeat_of"] < 0).sum())
    assert np.array_equal(t["arrival_s"], p["arrival_s"])
    assert np.array_equal(t["patience_s"], p["patience_s"])
    assert set(t["type"]) == {"tel", "mob"}


def test_a_repeat_call_keeps_its_type(two_types):
    """A caller calling again is of the first call's type."""
    _, typed, _ = two_types
    c = typed.calls
    rep = c[c["repeat_of"] >= 0]
    assert len(rep) > 0
    assert (rep["type"].to_numpy() == c["type"].to_numpy()[rep["repeat_of"]]).all()


def test_kpis_by_type_use_each_types_threshold(two_types):
    """compute_kpis(by="type") gives per type what its own calls and threshold give."""
    scenario, typed, _ = two_types
    tables = skill_tables(typed, scenario)
    by_type = tables["call_types"].set_index("type")
    c = typed.calls[typed.calls["counted"]]
    for name, t in (("tel", 20.0), ("mob", 30.0)):
        mine = c[c["type"] == name]
        sl = scenario.service_level.model_copy(update={"threshold_s": t})
        num, den = service_level_masks(mine, sl)
        assert by_type.loc[name, "offered"] == len(mine)
        assert math.isclose(by_type.loc[name, "service_level"], num.sum() / den.sum())
    groups = tables["agent_groups"].set_index("group")
    answered = c[c["outcome"] == "answered"]
    assert groups["answered"].sum() == len(answered)
    # group h answers no "mob" call
    h_agents = typed.agents.index[typed.agents["shift"] == "b"]
    assert not answered[answered["agent"].isin(h_agents)]["type"].eq("mob").any()


def test_kpis_by_type_need_the_type_column():
    """Without call types, by="type" says why it cannot split."""
    calls = pd.DataFrame({"day": [0], "interval": [0]})
    data = KPIData(calls, pd.DataFrame(), scenario_from_dict(small_dict()).service_level)
    with pytest.raises(ValueError, match="no type column"):
        compute_kpis(data, by="type")


# --------------------------------------------------------------- the router, call by call


class Calls:
    """Hand-made per-call records of a router."""

    def __init__(self, env, types, arrival=None, deadline=None):
        n = len(types)
        self.env = env
        self.types = list(types)
        self.arrival = list(arrival or [0.0] * n)
        self.deadline = list(deadline or [1e9] * n)
        self.talk = [100.0] * n
        self.acw = [10.0] * n


class Probe:
    """An agent as the router sees it, noting what it is given."""

    def __init__(self, index, trace):
        self.index, self.trace = index, trace

    def offer(self, item):
        """Given a call while idle."""
        self.trace.append((self.index, item))

    def call_out(self, item):
        """Given a call in ACW."""
        self.trace.append((self.index, item))


def router(types, group_of, serves, **kw):
    """A skill router over hand-made calls, its probe agents and their trace."""
    env = simpy.Environment()
    n_types = 2
    arrival = kw.pop("arrival", None)
    r = SkillRouter(group_of=group_of, serves=serves,
                    level=kw.pop("level", [[1.0] * n_types for _ in serves]),
                    reserve=kw.pop("reserve", [[0] * n_types for _ in serves]),
                    type_priority=kw.pop("type_priority", [0] * n_types),
                    group_priority=kw.pop("group_priority", [0] * len(serves)), **kw)
    calls = Calls(env, types, arrival)
    r.bind(calls)
    trace: list[tuple[int, int]] = []
    return r, [Probe(k, trace) for k in range(len(group_of))], trace, env, calls


def test_overflow_waits_for_the_delay_then_takes_an_idle_agent():
    """An idle agent of an overflow group gets the call only when it has waited 30 s."""
    r, (a, b), trace, env, _ = router([0], [0, 1], [[(0, 0.0)], [(0, 30.0)]])
    r.idle(b)
    r.arrive(0)
    assert trace == []
    env.run(until=29.9)
    assert trace == []
    env.run(until=31)
    assert trace == [(1, 0)]
    assert r.next_call(a, 31.0) is None  # taken out of the queue


def test_reserved_agents_are_kept_for_their_type():
    """Group 0 keeps one idle agent for type 0: type 1 takes agents only while two are idle."""
    r, agents, trace, _, _ = router([1, 1, 0], [0, 0], [[(0, 0.0), (1, 0.0)]],
                                    reserve=[[1, 0]])
    r.idle(agents[0])
    r.idle(agents[1])
    r.arrive(0)  # two idle: the type 1 call may take one
    r.arrive(1)  # one idle, reserved for type 0: waits
    r.arrive(2)  # type 0 takes the reserved agent
    assert trace == [(0, 0), (1, 2)]
    assert r.waiting(0.0) == 1


def test_priority_calls_and_fastest_agents():
    """A free agent takes the higher-priority type first; a call goes to the faster group."""
    r, (a, b), trace, _, calls = router(
        [0, 1, 0], [0, 1], [[(0, 0.0), (1, 0.0)], [(0, 0.0), (1, 0.0)]],
        calls="priority", agents="fastest", type_priority=[0, 5],
        level=[[1.0, 1.0], [0.5, 1.0]], arrival=[0.0, 1.0, 2.0])
    r.arrive(0)
    r.arrive(1)
    assert r.next_call(a, 3.0) == 1  # type 1 has priority though call 0 waited longer
    r.idle(a)
    r.idle(b)
    r.arrive(2)
    assert trace == [(1, 2)]  # group 1 is faster at type 0: half the handle time
    assert calls.talk[2] == 50.0 and calls.acw[2] == 5.0 and calls.talk[0] == 100.0


def test_longest_waiting_across_queues_and_random_agents_are_reproducible():
    """FCFS across types; random assignment draws from the router's own generator."""
    r, (a, _), _, _, _ = router([1, 0], [0, 0], [[(0, 0.0), (1, 0.0)]],
                                arrival=[0.0, 1.0])
    r.arrive(0)
    r.arrive(1)
    assert [r.next_call(a, 2.0), r.next_call(a, 2.0)] == [0, 1]
    picks = []
    for _ in range(2):
        r, agents, trace, _, _ = router([0] * 20, [0] * 5, [[(0, 0.0)]], agents="random",
                                        rng=np.random.default_rng(3))
        for ag in agents:
            r.idle(ag)
        for i in range(5):
            r.arrive(i)
        picks.append([k for k, _ in trace])
    assert picks[0] == picks[1] and sorted(picks[0]) == list(range(5))
    assert picks[0] != list(range(5))  # not the idle order


def test_a_replication_keeps_and_prints_the_tables_per_type(two_types):
    """run_task keeps the three tables; the text shows each type, group and the spread."""
    from analysis.experiment import Task, run_task
    from analysis.skills_report import TEXT_TABLES, skills_text
    from sim.measure.skills import SKILL_TABLES

    scenario, typed, _ = two_types
    out = run_task(Task(0, scenario, 2, 0, tables=SKILL_TABLES))
    for name in SKILL_TABLES:  # the same run as the fixture's: the same tables
        pd.testing.assert_frame_equal(out.tables[name], skill_tables(typed, scenario, 5)[name])
    groups = out.tables["agent_groups"].set_index("group")
    assert groups.loc["h", "agents"] == 4 and math.isnan(groups.loc["h", "occupancy"])
    text = skills_text(*(out.tables[n].assign(replication=0) for n in TEXT_TABLES))
    lines = text.splitlines()
    assert any(ln.startswith("tel ") for ln in lines) and any(ln.startswith("mob ") for ln in lines)
    assert any(ln.startswith("occupancy ") for ln in lines)
    row = next(ln for ln in lines if ln.startswith("h "))
    assert row.split()[1:] == ["4", "-", "-", "-", "-"]  # below the publication floor: blanked


def test_staffing_by_skill_adds_agents_until_every_type_meets_its_target():
    """The greedy search stops at the first head counts where every type meets its target."""
    from analysis.skill_staffing import staff_by_skill

    s = scenario_from_dict(small_dict(
        call_types=TYPES, agent_groups=GROUPS,
        staffing={"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 12},
                             "b": {"start": "08:00", "hours": 2, "agents": 5}}}))
    found = staff_by_skill(s, seed=1, reps=2)
    assert found.met and len(found.steps) > 1
    last, before = found.steps[-1], found.steps[-2]
    assert all(v >= 0.8 for v in last["service_level"].values())
    assert before["service_level"][before["type"]] < 0.8  # the step added for a shortfall
    assert sum(last["groups"].values()) == sum(found.steps[0]["groups"].values()) + \
        len(found.steps) - 1
    assert found.groups == last["groups"] == {
        g: sum(found.scenario.staffing.head_counts()[x] for x in grp.shifts)
        for g, grp in found.scenario.agent_groups.items()}


def test_an_overflow_group_answers_a_type_only_after_its_delay():
    """Calls answered by the overflow group waited at least the delay; they are counted."""
    groups = {"g": {"shifts": ["a"], "skills": ["tel", "mob"]},
              "h": {"shifts": ["b"], "skills": ["tel", "mob"], "overflow_after_s": {"mob": 15}}}
    s = scenario_from_dict(small_dict(call_types=TYPES, agent_groups=groups))
    r = simulate(s, seed=3)
    c = r.calls
    by_h = c["agent"].isin(r.agents.index[r.agents["shift"] == "b"])
    mob_h = c[by_h & (c["type"] == "mob") & (c["outcome"] == "answered")]
    assert len(mob_h) > 0 and (mob_h["wait_s"] >= 15 - 1e-9).all()
    tel_h = c[by_h & (c["type"] == "tel")]
    assert (tel_h["wait_s"] < 15).any()  # no delay for its own type
    t = skill_tables(r, s)
    counted = mob_h[mob_h["counted"]]
    assert t["call_types"].set_index("type").loc["mob", "overflowed"] == len(counted)
    assert t["agent_groups"].set_index("group").loc["h", "overflow_answered"] == len(counted)


# ------------------------------------------------------------------------ written work

MAIL = {"kind": "written", "per_day": 80, "talk_mean_s": 200, "deadline_h": 0.5}


@pytest.fixture(scope="module")
def with_mail():
    """The small centre with e-mails worked by group g between calls, and its run."""
    groups = {"g": {"shifts": ["a"], "skills": ["tel", "mob", "mail"]},
              "h": {"shifts": ["b"], "skills": ["tel"]}}
    s = scenario_from_dict(small_dict(call_types={**TYPES, "mail": MAIL}, agent_groups=groups,
                                      demand={"calls_per_day": 120, "profile": [1, 2, 2, 1]}))
    return s, simulate(s, seed=5)


def test_written_work_waits_for_the_phones(with_mail):
    """An agent starts an e-mail only when no phone call it could take is waiting."""
    s, r = with_mail
    c = r.calls
    left = np.where(c["outcome"] == "answered", c["answered_s"], c["arrival_s"] + c["wait_s"])
    im = r.imposed[r.imposed["reason"].str.startswith("written ")]
    assert len(im) > 10
    assert set(r.agents.loc[im["agent"], "shift"]) == {"a"}  # only group g works them
    for t in im["start_s"]:  # tel and mob are both g's: none may be waiting then
        waiting = (c["arrival_s"] < t - 1e-9) & (left > t + 1e-9)
        assert not waiting.any(), f"a call waited while an e-mail was started at {t}"


def test_written_items_are_worked_first_in_first_out_after_they_arrive(with_mail):
    """Each e-mail starts after it arrives, once, in order; the table adds up."""
    from sim.engine.routing_skills import written_items

    s, r = with_mail
    arrival, handle, _ = written_items(s, 5, 0)
    im = r.imposed[r.imposed["reason"].str.startswith("written ")].sort_values("start_s")
    k = im["reason"].str.rsplit("#", n=1).str[1].astype(int).to_numpy()
    assert len(set(k)) == len(k) and (np.diff(k) > 0).all()
    assert (im["start_s"].to_numpy() >= arrival[k] - 1e-9).all()
    assert np.allclose(im["length_s"].to_numpy(), handle[k])
    w = skill_tables(r, s)["written"].set_index("type")
    assert w.loc["mail", "items"] == len(arrival) and w.loc["mail", "done"] == len(k)
    assert w.loc["mail", "backlog"] == len(arrival) - len(k)
    assert list(skill_tables(r, s)["call_types"]["type"]) == ["tel", "mob"]


def test_written_work_leaves_the_phone_calls_as_they_were(with_mail):
    """Adding a written type draws nothing from the calls' streams: same calls, same types."""
    s, r = with_mail
    plain = simulate(scenario_from_dict(small_dict(
        call_types=TYPES, agent_groups=GROUPS,
        demand={"calls_per_day": 120, "profile": [1, 2, 2, 1]})), seed=5).calls
    n = int((plain["repeat_of"] < 0).sum())
    for col in ("arrival_s", "patience_s", "type"):
        assert (r.calls[col].iloc[:n].astype(str).to_numpy()
                == plain[col].iloc[:n].astype(str).to_numpy()).all(), col


def test_written_types_are_checked():
    """A written type needs per_day; a phone type may not have one."""
    assert error(call_types={**TYPES, "mail": {"kind": "written"}},
                 agent_groups=GROUPS) == ("invalid scenario:\n  x.toml: call_types.mail."
                                          "per_day: missing; a written type says how many "
                                          "items arrive a day")
    assert error(call_types={**TYPES, "mob": {"per_day": 5}}, agent_groups=GROUPS) == (
        "invalid scenario:\n  x.toml: call_types.mob.per_day: 5 is for written types; a "
        "phone type's volume is its share of demand.calls_per_day")


def test_agents_on_written_work_are_called_out_at_the_queue_threshold():
    """A group scheduled on e-mails starts one only while fewer than 3 calls wait."""
    groups = {"g": {"shifts": ["a"], "skills": ["tel", "mob"]},
              "w": {"shifts": ["b"], "skills": ["mail", "tel"], "phones_at_queue": 3}}
    s = scenario_from_dict(small_dict(call_types={**TYPES, "mail": {**MAIL, "per_day": 150}},
                                      agent_groups=groups))
    r = simulate(s, seed=6)
    c = r.calls
    left = np.where(c["outcome"] == "answered", c["answered_s"], c["arrival_s"] + c["wait_s"])
    im = r.imposed[r.imposed["reason"].str.startswith("written ")]
    tel = c["type"] == "tel"
    starts = im["start_s"].to_numpy()
    waiting = [int((tel & (c["arrival_s"] < t - 1e-9) & (left > t + 1e-9)).sum())
               for t in starts]
    assert len(starts) > 10 and max(waiting) < 3 and max(waiting) > 0
    w_agents = r.agents.index[r.agents["shift"] == "b"]
    assert c["agent"].isin(w_agents).any()  # called out to the phones at times


def test_compare_shows_each_scenarios_queues_side_by_side(tmp_path, capsys):
    """Comparing two routing policies (ccsim compare) prints each one's queues and spread."""
    import tomllib

    from analysis.cli import main

    d = small_dict(call_types=TYPES, agent_groups=GROUPS)
    text = "\n".join(f"{k} = {v!r}" for k, v in d.items() if isinstance(v, str) and k != "name")
    paths = []
    for name, rule in (("idle", "longest_idle"), ("rand", "random")):
        body = {**d, "routing": {"agents": rule}}
        lines = [text]
        for sect, val in body.items():
            if isinstance(val, dict):
                lines.append(f"{sect} = {_inline(val)}")
        p = tmp_path / f"{name}.toml"
        p.write_text("\n".join(lines) + "\n")
        tomllib.loads(p.read_text())  # written as TOML the loader reads
        paths.append(str(p))
    assert main(["compare", *paths, "--reps", "2", "--no-confirm", "--executor", "serial",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    for name in ("idle", "rand"):
        block = out.split(f"== {name}")[1]
        assert "By call type" in block and "Across agents" in block
        assert any(ln.startswith("mob ") for ln in block.splitlines())
    page = (tmp_path / "out" / "report.html").read_text()
    section = page.split('id="call_types"')[1]
    assert "<h3>idle</h3>" in section and "<h3>rand</h3>" in section
    # and a figure: service level per queue and the spread across agents, side by side
    assert 'id="call_types_figure"' in section
    png = (tmp_path / "out" / "figures" / "call_types.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def _inline(value) -> str:
    """A value as an inline TOML table or value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_inline(v)}' for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def test_written_work_keeps_the_reserved_agents_for_the_phones():
    """With one agent reserved for type 0, an e-mail takes an agent only while two are idle."""
    started: list[int] = []

    class Worker(Probe):
        """A probe that can be sent off to written work."""

        def impose(self, status, length_s, reason):
            """Take the written item (and leave the router, as an agent does)."""
            started.append(self.index)
            r.leave_idle(self)
            return True

    env = simpy.Environment()
    written = (np.array([0.0]), np.array([60.0]), np.array([1]))
    r = SkillRouter(group_of=[0, 0], serves=[[(0, 0.0), (1, 0.0)]], level=[[1.0, 1.0]],
                    reserve=[[1, 0]], type_priority=[0, 0], group_priority=[0],
                    written=written, names=("tel", "mail"))
    r.bind(Calls(env, []))
    env.run(until=1)  # the e-mail arrives; nobody is idle yet
    trace: list[tuple[int, int]] = []
    a, b = Worker(0, trace), Worker(1, trace)
    r.idle(a)
    assert started == []  # the only idle agent is the reserved one
    r.idle(b)
    assert started == [1] and r.written_start[0] == 1.0


def test_per_type_intervals_agree_with_the_kpis_by_interval(two_types):
    """Each type's interval table equals compute_kpis(by="interval") on its calls alone."""
    from sim.measure.tables import clip_to_opening

    scenario, typed, _ = two_types
    got = skill_tables(typed, scenario)["type_intervals"]
    c = typed.calls[typed.calls["counted"]]
    for name, t in (("tel", 20.0), ("mob", 30.0)):
        mine = c[c["type"] == name]
        sl = scenario.service_level.model_copy(update={"threshold_s": t})
        want = compute_kpis(KPIData(mine, clip_to_opening(typed.statuses, scenario), sl),
                            by="interval")
        have = got[got["type"] == name].reset_index(drop=True)
        for col in ("offered", "answered", "service_level", "asa_s", "abandon_rate"):
            assert np.allclose(have[col], want[col], equal_nan=True), (name, col)
        assert have["offered"].sum() == len(mine)


@pytest.fixture(scope="module")
def mail_backlog():
    """An overloaded e-mail queue warmed up a week: its run, its router, its start state."""
    from sim.model import build, collect, run, warm_start

    groups = {"g": {"shifts": ["a"], "skills": ["tel", "mob", "mail"]},
              "h": {"shifts": ["b"], "skills": ["tel"]}}
    s = scenario_from_dict(small_dict(
        call_types={**TYPES, "mail": {**MAIL, "per_day": 150, "deadline_h": 30}},
        agent_groups=groups, horizon={"days": 2, "open": "08:00", "hours": 2,
                                      "interval_minutes": 30, "warmup_days": 5}))
    state = warm_start(s, 3, 0)
    r = build(s, 3, 0, start=state)
    run(r)
    return s, state, r.centre.router, collect(r)


def test_written_backlog_is_carried_from_the_warm_up_and_conserved(mail_backlog):
    """Items left by the warm-up head the backlog; arrived + carried = done + left, exactly."""
    s, state, router, r = mail_backlog
    assert len(state.written) > 50  # the warm-up left a backlog
    assert all(a < 0 for a, _, _ in state.written)  # before day 0
    assert r.provenance["written_carried"] == {"mail": len(state.written)}
    w = skill_tables(r, s)["written"].set_index("type").loc["mail"]
    assert w["carried"] == len(state.written)
    left = router.written_left()  # counted by the router itself, not by the table
    assert w["items"] + w["carried"] == w["done"] + len(left)
    assert w["backlog"] == len(left)
    im = r.imposed[r.imposed["reason"].str.startswith("written ")].sort_values("start_s")
    assert len(im) == w["done"] and im["start_s"].notna().all()
    # oldest first: the warm-up's items are worked before this run's, the oldest of them first
    carried = im["reason"].str.extract(r"carried #(\d+) arrived (\S+)$")
    mine = carried[0].notna().to_numpy()
    assert mine.all() and len(im) < len(state.written)  # more left than two days work off
    k = np.sort(carried[0][mine].astype(int).to_numpy())
    assert (k == np.arange(len(k))).all()
    assert np.allclose(carried[1][mine].astype(float).to_numpy(),
                       [state.written[j][0] for j in carried[0][mine].astype(int)], atol=1e-3)
    # an item's deadline counts from its arrival in the warm-up: these are all late
    assert w["deadline_met"] < 1.0 and w["mean_done_h"] > 30


def test_a_cold_run_carries_no_written_work(with_mail):
    """Without a warm-up nothing is carried and the table says so."""
    s, r = with_mail
    assert "written_carried" not in r.provenance
    assert skill_tables(r, s)["written"].set_index("type").loc["mail", "carried"] == 0


def test_the_run_report_draws_the_queues_and_the_spread(tmp_path):
    """The run's report.html embeds the per-queue figure and writes it to figures/."""
    from analysis.cli import main

    d = small_dict(call_types=TYPES, agent_groups=GROUPS)
    lines = [f"{k} = {v!r}" for k, v in d.items() if isinstance(v, str) and k != "name"]
    lines += [f"{k} = {_inline(v)}" for k, v in d.items() if isinstance(v, dict)]
    (tmp_path / "two.toml").write_text("\n".join(lines) + "\n")
    assert main(["run", str(tmp_path / "two.toml"), "--reps", "2", "--executor", "serial",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert 'id="call_types_figure"' in page.split('id="call_types"')[1]
    assert (tmp_path / "out" / "figures" / "call_types.png").read_bytes().startswith(b"\x89PNG")
