"""The seams the policy and stress layers use.

Behaviour objects, the status funnel, imposed activities, presence, the model digest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import provenance
from sim.engine.behaviour import NULL, Behaviour
from sim.engine.status import Status
from sim.engine.streams import Streams
from sim.model import simulate
from sim.people.compose import build_behaviours
from sim.scenario import load_scenario
from tests.conftest import assert_statuses_tile
from tests.golden.regenerate import SCENARIO, SEED


@pytest.fixture(scope="module")
def golden():
    """The golden scenario (two days, every deviation on)."""
    return load_scenario(SCENARIO)


class Recorder(Behaviour):
    """Watches every status change through the funnel."""

    watches_status = True

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int, float]] = []

    def on_status(self, agent, old, new, now):
        """Record the change."""
        self.seen.append((agent.index, old, new, now))


def test_null_behaviour_is_what_the_scenario_builds(golden):
    """With no policy or stress section, every agent gets the shared null behaviour."""
    people = build_behaviours(golden, Streams(SEED, 0))
    assert people.behaviours == [NULL] * 8
    assert people.strains is None and people.recorders == []
    assert not NULL.watches_status and not NULL.watches_days


def test_every_status_change_goes_through_the_funnel(golden):
    """The watcher sees exactly the status log, change by change, and changes nothing."""
    rec = Recorder()
    r = simulate(golden, seed=SEED, behaviours=lambda agent: rec)
    base = simulate(golden, seed=SEED)
    pd.testing.assert_frame_equal(r.statuses, base.statuses)
    seen = pd.DataFrame(rec.seen, columns=["agent", "old", "new", "t"])
    spells = seen[seen["new"] != Status.LOGGED_OUT]
    assert len(spells) == len(r.statuses)
    got = spells.sort_values(["agent", "t"], kind="stable")
    assert np.array_equal(got["t"].to_numpy(), r.statuses["start_s"].to_numpy())
    assert [Status(c).label for c in got["new"]] == r.statuses["status"].astype(str).tolist()
    # old is the previous new of the same agent (Logged Out at each log-in)
    for _, g in seen.groupby("agent"):
        assert g["old"].iloc[0] == Status.LOGGED_OUT
        assert (g["old"].to_numpy()[1:] == g["new"].to_numpy()[:-1]).all()


class Coach(Behaviour):
    """Takes each agent off queue for a 5-minute talk at its first call of each day."""

    watches_status = True

    def __init__(self) -> None:
        self.days: set[tuple[int, int]] = set()

    def on_status(self, agent, old, new, now):
        """Impose a talk at the day's first call."""
        if new == Status.TALK and (agent.index, agent.day) not in self.days:
            self.days.add((agent.index, agent.day))
            assert agent.impose(Status.NOT_READY_TRAINING, 300.0, "coaching")


def test_imposed_activity_after_the_call_with_its_own_rows(golden):
    """A supervisor's talk starts when the call's work ends, lasts its length, is logged."""
    coach = Coach()  # one shared object: it remembers whom it coached today
    r = simulate(golden, seed=SEED, behaviours=lambda agent: coach)
    im = r.imposed
    assert len(im) == len(r.agent_days), "one talk per agent-day worked"
    assert (im["reason"] == "coaching").all()
    assert (im["status"] == "Not Ready - Training").all()
    assert np.allclose(im["end_s"] - im["start_s"], 300.0)
    st = r.statuses
    for row in im.itertuples():
        mine = st[(st["agent"] == row.agent) & (st["start_s"] == row.start_s)]
        assert mine["status"].tolist() == ["Not Ready - Training"], row
        before = st[(st["agent"] == row.agent) & (st["end_s"] == row.start_s)]
        # after the first call: its ACW (or Talk, when called out or without ACW), or a
        # planned activity that was due first
        assert before["status"].iloc[0] in {"After Call Work", "Talk", "Not Ready - Break",
                                            "Not Ready - Meeting", "Ready"}, before
    assert_statuses_tile(st, r.agent_days)
    assert len(r.activities) == len(simulate(golden, seed=SEED).activities)


class IdleCoach(Behaviour):
    """Imposes a talk the moment an agent first becomes Ready on day 0."""

    watches_status = True

    def on_status(self, agent, old, new, now):
        """Impose a talk at the first Ready."""
        if new == Status.READY and agent.day == 0 and not agent.imposed_log:
            agent.impose(Status.NOT_READY_MEETING, 120.0, "warning")


def test_imposed_on_an_idle_agent_starts_at_once(golden):
    """An idle agent leaves the queue at once: no Ready time before the talk."""
    r = simulate(golden, seed=SEED, behaviours=lambda agent: IdleCoach())
    im = r.imposed
    assert len(im) > 0
    assert np.allclose(im["start_s"], im["requested_s"]), im
    assert_statuses_tile(r.statuses, r.agent_days)


class Sick(Behaviour):
    """Agent 0 calls in sick for day 1 (decided at the day's start)."""

    watches_days = True

    def day_start(self, agent, day, presence):
        """Mark agent 0 absent on day 1."""
        if agent.index == 0 and day == 1:
            presence.mark_absent(0, 1, "sickness")


def test_absence_is_an_exception_not_a_login_delay(golden):
    """An absent agent-day: no log-in, no adherence loss, activities absent, its own row."""
    r = simulate(golden, seed=SEED, behaviours=lambda agent: Sick())
    base = simulate(golden, seed=SEED)
    ad = r.agent_days
    assert ((ad["agent"] == 0) & (ad["day"] == 1)).sum() == 0
    assert len(ad) == len(base.agent_days) - 1
    assert not ((r.statuses["agent"] == 0) & (r.statuses["day"] == 1)).any()
    assert r.absences[["agent", "day"]].values.tolist() == [[0, 1]]
    assert r.absences["reason"].tolist() == ["sickness"]
    assert r.absences["scheduled_s"].iloc[0] == 3 * 3600
    acts = r.activities
    mine = (acts["agent"] == 0) & (acts["day"] == 1)
    assert (acts.loc[mine, "outcome"] == "absent").all() and mine.any()
    assert (acts.loc[~mine, "outcome"] != "absent").all()
    # the day worked before is untouched (common random numbers), and the login delay of
    # everyone else is what it was
    d0 = ad[ad["day"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(d0, base.agent_days[base.agent_days["day"] == 0]
                                  .reset_index(drop=True))
    assert ad["lost_login_delay_s"].sum() <= base.agent_days["lost_login_delay_s"].sum()
    # one agent fewer scheduled on day 1
    iv, bv = r.intervals, base.intervals
    day1 = iv["day"] == 1
    assert (iv.loc[day1, "agents_scheduled"] <= bv.loc[day1, "agents_scheduled"]).all()
    assert (iv.loc[day1, "agents_scheduled"] < bv.loc[day1, "agents_scheduled"]).any()
    assert_statuses_tile(r.statuses, ad)


def test_absence_reason_must_be_known():
    """A typo in a reason is an error, not a new category."""
    from sim.engine.presence import Presence
    with pytest.raises(ValueError, match="sickness"):
        Presence(2, 2).mark_absent(0, 0, "sick-ish")


def test_model_digest_covers_subpackages(tmp_path, monkeypatch):
    """An edit in a subpackage or a data file of the model changes the digest."""
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 1\n")
    monkeypatch.setattr(provenance, "MODEL_ROOT", tmp_path)
    digest = provenance.model_digest.__wrapped__
    before = digest()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    assert digest() != before
    (tmp_path / "sub" / "c.toml").write_text("z = 1\n")
    assert digest() != before
