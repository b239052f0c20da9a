"""The reference of scenario fields and KPIs, generated from the code that defines them."""

from __future__ import annotations

import enum
import json
import re
from typing import Any, get_origin

from pydantic import BaseModel

from sim.measure.kpi import INTERVAL_TERMS, KPIS
from sim.scenario import SL_DEFINITIONS, Scenario, format_clock


def _fields(model: type[BaseModel], prefix: str = ""
            ) -> list[tuple[str, str, str, str, str, str]]:
    """(path, default, unit, plausible range, source, description) of every field."""
    rows = []
    for name, f in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = f.annotation
        sub = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        args = getattr(ann, "__args__", ())
        dict_of = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)),
                       None)
        source = (f.json_schema_extra or {}).get("source", "")
        if sub is not None:
            rows.append((f"[{path}]", "", "", "", source, f.description or ""))
            rows += _fields(sub, path + ".")
        elif dict_of is not None and get_origin(ann) in (tuple, list):  # an array of tables
            rows.append((f"[[{path}]]", "", "", "", source, f.description or ""))
            rows += _fields(dict_of, path + "[].")
        elif dict_of is not None:
            rows.append((f"[{path}.NAME]", "", "", "", source, f.description or ""))
            rows += _fields(dict_of, path + ".NAME.")
        else:
            plausible = (f.json_schema_extra or {}).get("plausible")
            rng = "" if plausible is None else f"{plausible[0]:g} to {plausible[1]:g}"
            rows.append((path, _default(f), unit_of(name, f) or "", rng, source,
                         f.description or ""))
    return rows


def sections() -> list[str]:
    """Names of the scenario's sections (the fields that are models of their own)."""
    return [name for name, f in Scenario.model_fields.items() if _submodel(f) is not None]


def _submodel(f: Any) -> type[BaseModel] | None:
    ann = f.annotation
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


_UNIT_SUFFIXES = (("_s", "seconds"), ("_min", "minutes"), ("_minutes", "minutes"),
                  ("_h", "hours"), ("_hours", "hours"), ("_days", "days"))
_UNIT_WORDS = re.compile(r"\((per hour|per day|hours|minutes|seconds|days|working days)\)")


def unit_of(name: str, f: Any) -> str | None:
    """A field's unit, or None when nothing states one.

    Its ``unit`` metadata, else its name's suffix (``_s``, ``_h``, ``_days``...), else a
    "(per hour)", "(hours)", "(days)"... in its description.
    """
    extra = f.json_schema_extra or {}
    if "unit" in extra:
        return extra["unit"]
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    m = _UNIT_WORDS.search(f.description or "")
    return m[1] if m else None


def _json_default(f: Any) -> Any:
    if f.is_required():
        return None
    d = f.default
    if isinstance(d, BaseModel):
        return d.model_dump(mode="json")
    if isinstance(d, float) and "Clock" in repr(f.metadata):
        return format_clock(d)
    if isinstance(d, enum.Enum):
        return d.value
    if isinstance(d, tuple | frozenset | set):
        return [_plain(v) for v in d]
    if isinstance(d, dict):
        return {k: _plain(v) for k, v in d.items()}
    return d


def _plain(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return v


def section_records(section: str) -> list[dict[str, Any]]:
    """Every field of scenario section ``section`` (nested sections dotted) as a dict.

    Keys: ``name`` (inside the section, e.g. ``adherence.exception_threshold_s``), ``path``
    (the dotted key of ``--set``), ``default`` (JSON value; None when required),
    ``required``, ``unit`` (None when the field states none), ``description``, ``source``
    and ``plausible`` (the [low, high] range ``ccsim sensitivity`` varies it over, or None).
    A ``ValueError`` names the known sections when ``section`` is not one.
    """
    known = sections()
    if section in known:
        return _records(_submodel(Scenario.model_fields[section]), "", section + ".")
    groups = _groups()
    if section in groups:  # e.g. "policy": every section defined in sim/scenario/policy.py
        return [rec for s in groups[section]
                for rec in _records(_submodel(Scenario.model_fields[s]), s + ".", "")]
    raise ValueError(f"--section {section!r}: no such scenario section; known: "
                     f"{', '.join(known)} (or a group: {', '.join(groups)})")


def _groups() -> dict[str, list[str]]:
    """Groups of sections by the schema module that defines them (``policy``: teams, ...)."""
    out: dict[str, list[str]] = {}
    for s in sections():
        module = _submodel(Scenario.model_fields[s]).__module__.rsplit(".", 1)[-1]
        if module not in sections():
            out.setdefault(module, []).append(s)
    return {k: v for k, v in out.items() if len(v) > 1}


def _records(model: type[BaseModel], prefix: str, root: str) -> list[dict[str, Any]]:
    out = []
    for name, f in model.model_fields.items():
        sub = _submodel(f)
        args = getattr(f.annotation, "__args__", ())
        dict_of = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)),
                       None)
        if sub is not None:
            out += _records(sub, f"{prefix}{name}.", root)
            continue
        if dict_of is not None:
            out += _records(dict_of, f"{prefix}{name}.NAME.", root)
            continue
        extra = f.json_schema_extra or {}
        plausible = extra.get("plausible")
        out.append({
            "name": prefix + name, "path": root + prefix + name, "default": _json_default(f),
            "required": f.is_required(), "unit": unit_of(name, f),
            "description": f.description or "", "source": extra.get("source", ""),
            "plausible": list(plausible) if plausible is not None else None,
        })
    return out


def section_reference(section: str) -> str:
    """Markdown: the fields of one section, as in :func:`reference`, with unit and range."""
    rows = section_records(section)
    out = [f"## [{section}]", "",
           "| field | default | unit | plausible range | source | description |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        default = "required" if r["required"] else json.dumps(r["default"])
        rng = "" if r["plausible"] is None else f"{r['plausible'][0]:g} to {r['plausible'][1]:g}"
        out.append(f"| `{r['path']}` | {default} | {r['unit'] or ''} | {rng} | {r['source']} "
                   f"| {r['description']} |")
    return "\n".join(out) + "\n"


def _default(f: Any) -> str:
    if f.is_required():
        return "required"
    d = f.default
    if isinstance(d, BaseModel):
        return ""
    if isinstance(d, float) and "Clock" in repr(f.metadata):
        return format_clock(d)
    return repr(d)


def reference() -> str:
    """Markdown: every scenario field with its unit and range, SL definitions, KPIs.

    Each field: default, unit, plausible range, source, description. The plausible range
    is what ``ccsim sensitivity`` varies an assumed number over.
    """
    out = ["# ccsim reference", "",
           "Generated by `ccsim docs` from the code; do not edit by hand.", "",
           "## Scenario fields", "",
           "| field | default | unit | plausible range | source | description |",
           "|---|---|---|---|---|---|"]
    for path, default, unit, rng, source, desc in _fields(Scenario):
        out.append(f"| `{path}` | {default} | {unit} | {rng} | {source} | {desc} |")
    out += ["", "## Service-level definitions (`service_level.definition`)", "",
            "| name | formula |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in SL_DEFINITIONS.items()]
    out += ["", "## KPIs", "", "| KPI | unit | meaning |", "|---|---|---|"]
    out += [f"| `{k.name}` | {k.unit} | {k.description} |" for k in KPIS.values()]
    out += ["", "## Words for intervals", "",
            "The run report, the compare report, the notebooks and these docs use these "
            "words with these meanings only (`sim.measure.kpi.INTERVAL_TERMS`).", "",
            "| term | meaning |", "|---|---|"]
    out += [f"| {t} | {d} |" for t, d in INTERVAL_TERMS.items()]
    return "\n".join(out) + "\n"
