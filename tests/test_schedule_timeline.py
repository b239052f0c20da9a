"""The Gantt chart of statuses over the schedule writes a real PNG."""

from __future__ import annotations

from analysis.timeline import plot_timeline
from sim.model import simulate


def test_timeline_writes_a_png(base, tmp_path):
    """A day of the base centre with breaks and deviations draws to a non-empty PNG."""
    s = base.replace({"horizon.days": 1, "staffing.agents": 20,
                      "demand.calls_per_day": 1400, "behaviour.login_delay_max_s": 240,
                      "behaviour.unplanned_breaks_per_hour": 0.5})
    r = simulate(s, seed=1)
    out = plot_timeline(r, tmp_path / "gantt" / "day0.png", day=0, max_agents=12)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
