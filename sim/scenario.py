"""The scenario schema: frozen, validated models, and TOML loading with ``extends``.

A scenario is data. It is loaded from TOML (never executed), merged over the file it
``extends``, validated strictly, and frozen. Every error names the file, the dotted field
path, the value and what is allowed, so a user never meets a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

DAY_S = 86_400.0


class ScenarioError(ValueError):
    """A scenario (file, dict or override) is not valid; the message says where and why."""


# --------------------------------------------------------------------------- helpers

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def parse_clock(value: Any) -> float:
    """Turn ``"HH:MM"`` or ``"HH:MM:SS"`` (00:00 to 24:00) into seconds after midnight."""
    if isinstance(value, str):
        m = _CLOCK.match(value.strip())
        if m:
            h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
            secs = h * 3600.0 + mi * 60.0 + s
            if secs <= DAY_S:
                return secs
    raise ValueError(f'expected a clock time "HH:MM" between 00:00 and 24:00, got {value!r}')


def format_clock(seconds: float) -> str:
    """Format seconds after midnight as ``"HH:MM"`` (``"HH:MM:SS"`` when needed)."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


Clock = Annotated[
    float,
    BeforeValidator(parse_clock),
    PlainSerializer(format_clock, return_type=str),
]


def _to_tuples(value: Any) -> Any:
    """TOML arrays arrive as lists; frozen models hold tuples."""
    if isinstance(value, list):
        return tuple(_to_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_tuples(v) for k, v in value.items()}
    return value


def _field(default: Any = ..., *, description: str, source: str, **kw: Any) -> Any:
    """A model field whose description and source (or "assumption") the docs show."""
    return Field(default, description=description, json_schema_extra={"source": source}, **kw)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# --------------------------------------------------------------------------- sections


class Horizon(_Model):
    """How long a run lasts and how a day is cut into reporting intervals."""

    days: int = _field(
        1, ge=1, le=3660, description="Days simulated; state carries over between days.",
        source="scenario choice",
    )
    open: Clock = _field(
        description='Opening time of the queue each day ("HH:MM").', source="scenario choice"
    )
    hours: float = _field(
        gt=0, description="Opening hours per day (calls arrive only while open); more than 24 "
        "only in a single-day stationary run.", source="scenario choice",
    )
    interval_minutes: float = _field(
        15.0, gt=0, description="Length of a reporting interval; the demand profile has one "
        "weight per interval.", source="industry convention (15-minute ACD intervals)",
    )
    warmup_minutes: float = _field(
        0.0, ge=0, description="Calls arriving in the first minutes of day 0 are simulated but "
        "left out of KPIs (steady-state runs only; whole days need none).",
        source="simulation methodology",
    )

    @model_validator(mode="after")
    def _check(self) -> Horizon:
        if self.days > 1 and self.open + self.hours * 3600 > DAY_S:
            raise ValueError(
                f"hours: opening hours must end by 24:00 when days > 1 (open "
                f"{format_clock(self.open)} + {self.hours} h)"
            )
        n = self.hours * 60 / self.interval_minutes
        if abs(n - round(n)) > 1e-9:
            raise ValueError(
                f"hours: {self.hours} is not a whole number of intervals of "
                f"{self.interval_minutes} minutes"
            )
        if self.warmup_minutes >= self.hours * 60:
            raise ValueError(f"warmup_minutes: {self.warmup_minutes} must be shorter than the "
                             f"opening hours ({self.hours * 60:g} minutes)")
        return self

    @property
    def intervals_per_day(self) -> int:
        """Number of reporting intervals in a day's opening hours."""
        return round(self.hours * 60 / self.interval_minutes)

    @property
    def interval_s(self) -> float:
        """Reporting interval length in seconds."""
        return self.interval_minutes * 60.0


class Demand(_Model):
    """How many calls arrive and when (a non-homogeneous Poisson process)."""

    calls_per_day: float = _field(
        gt=0, description="Expected calls offered per day (before the busyness factor).",
        source="scenario choice",
    )
    profile: tuple[float, ...] = _field(
        description="Relative call volume per reporting interval over the opening hours "
        "(any non-negative weights; they are normalised).", source="scenario choice",
        min_length=1,
    )
    busyness_cv: float = _field(
        0.0, ge=0, le=2, description="Coefficient of variation of a day-level Gamma busyness "
        "factor (mean 1) that scales the whole day; 0 gives plain Poisson arrivals.",
        source="assumption; real centres show over-dispersion of daily volume (typ. 0.05-0.15)",
    )

    @model_validator(mode="after")
    def _check(self) -> Demand:
        if any(not math.isfinite(w) or w < 0 for w in self.profile):
            raise ValueError(f"profile: weights must be finite and >= 0, got {self.profile}")
        if sum(self.profile) <= 0:
            raise ValueError("profile: weights must not all be zero")
        return self


class Duration(_Model):
    """A positive random duration given by its mean and coefficient of variation."""

    distribution: Literal["lognormal", "exponential", "gamma", "fixed"] = _field(
        "lognormal", description="Family of the distribution.",
        source="log-normal service times: Brown et al. (2005), JASA 100(469)",
    )
    mean_s: float = _field(ge=0, description="Mean in seconds (0 means none).", source="-")
    cv: float = _field(
        1.0, ge=0, le=10, description="Coefficient of variation (ignored by exponential: 1, "
        "and fixed: 0).", source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Duration:
        if self.distribution in ("lognormal", "gamma") and self.mean_s > 0 and self.cv == 0:
            raise ValueError(f"cv: must be > 0 for a {self.distribution} distribution; use "
                             'distribution = "fixed" for a constant')
        return self


class Patience(_Model):
    """How long a caller is willing to wait before hanging up."""

    distribution: Literal["exponential", "lognormal", "gamma", "fixed", "none"] = _field(
        "exponential", description='Family; "none" means callers never abandon.',
        source="exponential patience: Garnett, Mandelbaum & Reiman (2002), MSOM 4(3)",
    )
    mean_s: float = _field(
        180.0, gt=0, description="Mean patience in seconds.",
        source="assumption (illustrative: a few minutes)",
    )
    cv: float = _field(1.0, gt=0, le=10, description="Coefficient of variation (lognormal, "
                       "gamma).", source="assumption")


class Calls(_Model):
    """Attributes drawn for every call."""

    talk: Duration = _field(
        Duration(distribution="lognormal", mean_s=255.0, cv=0.8),
        description="Talk time.", source="assumption (illustrative; AHT ~5 min)",
    )
    acw: Duration = _field(
        Duration(distribution="lognormal", mean_s=45.0, cv=0.6),
        description="After Call Work (wrap-up) time.",
        source="assumption (illustrative; ACW ~15% of AHT)",
    )
    patience: Patience = _field(
        Patience(), description="Caller patience (abandonment).", source="assumption",
    )


class Shift(_Model):
    """A shift pattern worked every day of the horizon."""

    start: Clock = _field(description='Log-in time ("HH:MM").', source="scenario choice")
    hours: float = _field(
        gt=0, description="Shift length in hours (agents finish the current call after it).",
        source="scenario choice",
    )
    agents: int = _field(ge=0, description="Agents working this shift.", source="scenario choice")


class Staffing(_Model):
    """Who is there: named shift patterns and their head counts."""

    agents: int | None = _field(
        None, ge=1, description="Optional total head count: if set, agents are distributed "
        "over the shifts in proportion to their `agents` (largest remainder).",
        source="scenario choice",
    )
    shifts: dict[str, Shift] = _field(
        description="Shift patterns by name.", source="scenario choice", min_length=1,
    )

    @model_validator(mode="after")
    def _check(self) -> Staffing:
        for name in self.shifts:
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
                raise ValueError(f"shifts: name {name!r} may use letters, digits, _ and - only")
        if sum(s.agents for s in self.shifts.values()) == 0:
            raise ValueError("shifts: at least one shift needs agents > 0")
        return self

    def head_counts(self) -> dict[str, int]:
        """Agents per shift after applying the optional total (largest remainder)."""
        base = {n: s.agents for n, s in self.shifts.items()}
        if self.agents is None:
            return base
        total = sum(base.values())
        quotas = {n: self.agents * c / total for n, c in base.items()}
        counts = {n: math.floor(q) for n, q in quotas.items()}
        left = self.agents - sum(counts.values())
        for n in sorted(quotas, key=lambda n: (counts[n] - quotas[n], n))[:left]:
            counts[n] += 1
        return counts


SL_DEFINITIONS: dict[str, str] = {
    "offered": "answered within T / offered (abandons and unanswered calls count against)",
    "answered": "answered within T / answered (ignores abandons)",
    "answered_and_late_abandons": "answered within T / (answered + abandoned after T)",
    "offered_excluding_short_abandons": (
        "answered within T / (offered - abandoned within the short-abandon time)"
    ),
}


class ServiceLevel(_Model):
    """How service level is defined and what it is measured against."""

    threshold_s: float = _field(
        20.0, ge=0, description="T: answered within this many seconds counts as in service.",
        source="industry convention (80/20)",
    )
    target: float = _field(
        0.8, gt=0, le=1, description="Target share (e.g. 0.8 for 80/20).",
        source="industry convention (80/20)",
    )
    definition: Literal[
        "offered", "answered", "answered_and_late_abandons", "offered_excluding_short_abandons"
    ] = _field(
        "offered", description="Which service-level formula the `service_level` KPI uses; see "
        "the KPI docs.", source="industry practice varies; 'offered' is the strictest",
    )
    short_abandon_s: float = _field(
        5.0, ge=0, description="Abandons within this many seconds are not counted by "
        "`offered_excluding_short_abandons`.", source="industry convention",
    )


class Scenario(_Model):
    """One contact centre to simulate: validated, frozen, hashable."""

    name: str = _field("scenario", description="Short name (defaults to the file name).",
                       source="-", min_length=1)
    description: str = _field(description="What this scenario is.", source="-", min_length=1)
    rationale: str = _field(description="Why it exists / where its numbers come from.",
                            source="-", min_length=1)
    horizon: Horizon = _field(description="Run length and intervals.", source="-")
    demand: Demand = _field(description="Call arrivals.", source="-")
    calls: Calls = _field(Calls(), description="Call attributes.", source="-")
    staffing: Staffing = _field(description="Shifts and head counts.", source="-")
    service_level: ServiceLevel = _field(
        ServiceLevel(), description="Service-level definition and target.", source="-"
    )

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        n = self.horizon.intervals_per_day
        if len(self.demand.profile) != n:
            raise ValueError(
                f"demand.profile: has {len(self.demand.profile)} weights but the opening hours "
                f"({self.horizon.hours:g} h of {self.horizon.interval_minutes:g}-minute "
                f"intervals) have {n} intervals; give one weight per interval"
            )
        for name, sh in self.staffing.shifts.items():
            if self.horizon.days > 1 and sh.hours > 24:
                raise ValueError(f"staffing.shifts.{name}.hours: {sh.hours} h is longer than "
                                 "24 h, allowed only in a single-day run")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (clock times as text), as it would be written to TOML/JSON."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A stable SHA-256 of the scenario's content (name and prose excluded)."""
        data = self.to_dict()
        for k in ("name", "description", "rationale"):
            data.pop(k)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, overrides: Mapping[str, Any], source: str = "override") -> Scenario:
        """A new scenario with dotted keys set (``{"staffing.agents": 90}``), re-validated."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return _validate(data, {k: source for k in overrides}, source)


# --------------------------------------------------------------------------- loading


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise ScenarioError(
                f"{source}: {'.'.join(parts[: i + 1])}: is a value, not a section, so "
                f"{key!r} cannot be set"
            )
        node = nxt
    node[parts[-1]] = value


def _merge(base: dict[str, Any], over: dict[str, Any], origin: dict[str, str], src: str,
           prefix: str = "") -> dict[str, Any]:
    """Deep-merge ``over`` into ``base``: tables merge, everything else replaces."""
    out = dict(base)
    for k, v in over.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, origin, src, path + ".")
        else:
            out[k] = v
            origin[path] = src
            for p in [p for p in origin if p.startswith(path + ".")]:
                origin[p] = src
    return out


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a file and everything it extends; return merged data and key -> file map."""
    shown = str(path)
    if path in chain:
        raise ScenarioError(f"{shown}: extends: cycle {' -> '.join(map(str, chain + (path,)))}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = f"{chain[-1]}: extends" if chain else "scenario"
        raise ScenarioError(f"{where}: file not found: {shown}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{shown}: not valid TOML: {exc}") from None
    for key in ("description", "rationale"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(
                f"{shown}: {key}: required text in every scenario file (a what-if states its "
                "own description and rationale)"
            )
    origin: dict[str, str] = {}
    parent = raw.pop("extends", None)
    if parent is None:
        data: dict[str, Any] = {}
    elif isinstance(parent, str):
        data, origin = _read_toml((path.parent / parent).resolve(), chain + (path,))
    else:
        raise ScenarioError(f"{shown}: extends: expected a file name (text), got {parent!r}")
    return _merge(data, raw, origin, shown), origin


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario TOML file, following ``extends``, and validate it."""
    path = Path(path)
    data, origin = _read_toml(path.resolve(), ())
    data.setdefault("name", path.stem)
    if "name" not in origin:
        origin["name"] = str(path)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, "--set")
        origin[key] = "--set"
    # errors should name the file the user typed, not its resolved absolute path
    origin = {k: (str(path) if v == str(path.resolve()) else v) for k, v in origin.items()}
    return _validate(data, origin, str(path))


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data (e.g. built by code or a notebook)."""
    return _validate(dict(data), {}, source)


def _validate(data: dict[str, Any], origin: dict[str, str], default_src: str) -> Scenario:
    try:
        return Scenario.model_validate(_to_tuples(data))
    except ValidationError as exc:
        lines = [_describe(err, data, origin, default_src) for err in exc.errors()]
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _describe(err: Mapping[str, Any], data: Mapping[str, Any], origin: Mapping[str, str],
              default_src: str) -> str:
    """One line: file: dotted.path: value — what is allowed."""
    loc = [str(p) for p in err["loc"]]
    path = ".".join(loc) or "(top level)"
    src = default_src
    for i in range(len(loc), 0, -1):
        key = ".".join(loc[:i])
        if key in origin:
            src = origin[key]
            break
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return (f"{src}: {path}: unknown key (value {err['input']!r}); allowed here: "
                f"{', '.join(allowed)}")
    if kind == "missing":
        return f"{src}: {path}: required field is missing"
    msg = msg.removeprefix("Value error, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        # model-level checks name their field first: "profile: has 3 weights but ..."
        m = re.match(r"^([a-z_]+(?:\.[A-Za-z0-9_\-]+)*): (.*)$", msg, re.S)
        if m:
            path = m[1] if path == "(top level)" else f"{path}.{m[1]}"
            msg = m[2]
            src = next((origin[k] for k in _prefixes(path) if k in origin), src)
        return f"{src}: {path}: {msg}"
    return f"{src}: {path}: got {err['input']!r}; {msg[0].lower()}{msg[1:]}"


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            # a dict entry (e.g. staffing.shifts.<name>): step into the dict's value model
            args = getattr(model, "__args__", ())
            model = args[-1] if args else model
            continue
        model = field.annotation
        args = getattr(model, "__args__", ())
        if args and not hasattr(model, "model_fields"):
            model = next((a for a in args if hasattr(a, "model_fields")), args[-1])
    return sorted(getattr(model, "model_fields", {}))
