"""Notebook sentences written from the numbers the cells computed, and checked against them.

A notebook's text about a result ("stress climbs over the weeks", "the worst interval
collapses") is easily left behind when the model changes: the figure moves and the sentence
stays. These helpers let a cell write the sentence from the numbers. The direction word is
chosen by the data (by the confidence interval where there is one), and a claim the lesson
depends on is checked. When the data contradict it, executing the notebook fails with the
claim's own words and what the data show.

Nothing here knows the model; it takes plain numbers (or anything with ``ci_low`` and
``ci_high``, such as :class:`analysis.stats.Estimate`).
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Protocol


class ContradictedClaim(AssertionError):
    """A notebook's claim that the numbers computed in its cells contradict."""


class Interval(Protocol):
    """Anything with a confidence interval (e.g. :class:`analysis.stats.Estimate`)."""

    ci_low: float
    ci_high: float


def claim(holds: bool, words: str, shown: str) -> str:
    """Return ``words`` if ``holds``; otherwise raise :class:`ContradictedClaim`.

    ``words`` is the claim as the text states it, ``shown`` what the data show instead;
    both appear in the error, so a reader of a failed run sees which sentence is wrong.
    """
    if not holds:
        raise ContradictedClaim(
            f"the notebook's text says {words!r}, but the data computed above show {shown}: "
            "the text no longer describes the result (fix the text or find out why the "
            "result changed)")
    return words


def by_interval(e: Interval, up: str, down: str, unclear: str) -> str:
    """``up`` if the interval lies above 0, ``down`` if below, else ``unclear``.

    For a difference with its confidence interval: a direction is only stated when the
    interval excludes 0 (an interval of NaN, from a single value, is ``unclear``).
    """
    if e.ci_low > 0:
        return up
    if e.ci_high < 0:
        return down
    return unclear


def change(first: float, last: float, up: str = "rises", down: str = "falls",
           level: str = "stays level", tolerance: float = 0.0) -> str:
    """The word for how a value moves from ``first`` to ``last``.

    ``level`` when they differ by at most ``tolerance`` (in the values' own unit);
    NaN on either side raises, since no direction can be read from it.
    """
    if math.isnan(first) or math.isnan(last):
        raise ValueError(f"change: no direction from {first!r} to {last!r} (NaN)")
    if abs(last - first) <= tolerance:
        return level
    return up if last > first else down


def say(text: str) -> Any:
    """Markdown for a notebook cell: ``text`` (an f-string of the cell's numbers), dedented.

    Returns an ``IPython.display.Markdown`` (so JupyterLab renders it as text, not as
    code output); without IPython, the plain string.
    """
    body = textwrap.dedent(text).strip()
    try:
        from IPython.display import Markdown
    except ImportError:  # the helpers are usable (and tested) without a kernel
        return body
    return Markdown(body)
