"""Generate docs/inferred.md: every behaviour of every provider that no page documents, with its reason.

The page is derived from the specs by walking them for `inferred(...)` citations, so it cannot miss one;
each entry says what klingsim does (the declared value) and why, grouped by what it concerns.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from klingsim.spec import (
    AuthSpec,
    CallbackPolicy,
    Constraint,
    DocRef,
    Endpoint,
    Envelope,
    ErrorSpec,
    ForbiddenWhen,
    IdFormat,
    Lifecycle,
    Param,
    PriceTable,
    ProviderSpec,
    Rate,
    RateLimit,
    RenderTime,
    RequiredWhen,
    Setting,
    UrlPolicy,
    Variant,
    When,
)

REQUESTS, ERRORS, JOBS, PRICES, SETTINGS = (
    "Requests",
    "Errors",
    "Jobs, ids, outputs and limits",
    "Prices",
    "Settings",
)
GROUPS = (REQUESTS, ERRORS, JOBS, PRICES, SETTINGS)


@dataclass(frozen=True, slots=True)
class Item:
    group: str
    context: str  # the endpoint (and model) a request item belongs to; empty elsewhere
    subject: str  # what klingsim does, with its declared values
    reason: str


def _range(low: float | None, high: float | None, unit: str = "") -> str:
    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"{fmt(low)}–{fmt(high)}{unit}"
    if low is not None:
        return f"≥ {fmt(low)}{unit}"
    return f"≤ {fmt(high)}{unit}" if high is not None else ""


def _param(p: Param, name: str) -> str:
    facts = ["whole number" if p.whole and str(p.type) == "number" else str(p.type)]
    if p.required:
        facts.append("required")
    if p.has_default:
        facts.append(f"default {json.dumps(p.default)}")
    facts.append(_range(p.minimum, p.maximum))
    if (p.min_length, p.max_length) == (1, None):
        facts.append("non-empty")
    else:
        facts.append(_range(p.min_length, p.max_length, " characters"))
    if p.max_items is not None:
        facts.append(f"≤ {p.max_items} items")
    if p.numeric_strings:
        facts.append("numeric strings accepted")
    return f"`{name}` ({', '.join(f for f in facts if f)})"


def _when(when: When) -> str:
    if when.values:
        return f"`{when.field}` is " + " or ".join(f"`{v}`" for v in when.values)
    return f"`{when.field}` ends with " + " or ".join(f"`{s}`" for s in when.suffixes)


def _fields(names: tuple[str, ...], joiner: str) -> str:
    return f" {joiner} ".join(f"`{n}`" for n in names)


def _seconds(seconds: int, per: bool = False) -> str:
    """A duration in its largest whole unit; `per` gives "minute" rather than "1 minute"."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            if count == 1:
                return unit if per else f"1 {unit}"
            return f"{count} {unit}s"
    return f"{seconds} seconds"


def _request_subject(value: Any) -> str | None:
    if isinstance(value, Endpoint):
        return "the route itself"
    if isinstance(value, Variant):
        return f"model `{value.name}`"
    if isinstance(value, RequiredWhen):
        return f"{_fields(value.any_of, 'or')} required when {_when(value.when)} (`{value.error}`)"
    if isinstance(value, ForbiddenWhen):
        return f"{_fields(value.fields, 'and')} refused when {_when(value.when)} (`{value.error}`)"
    if isinstance(value, Constraint):
        return f"rule `{value.id}` (`{value.error}`)"
    return None


def _job_subject(value: Any) -> str | None:
    if isinstance(value, Lifecycle):
        return "status words " + ", ".join(f"`{w}`" for w in dict.fromkeys(value.words.values()))
    if isinstance(value, RenderTime):
        queued, base, per = (_range(*r, " s") for r in (value.queued, value.base, value.per_output_second))
        return f"render time: queued {queued}, then {base} + {per} per output second"
    if isinstance(value, IdFormat):
        return "ids " + ", ".join(f"`{t}`" for t in value.templates.values())
    if isinstance(value, UrlPolicy):
        return f"output URLs valid {_seconds(value.lifetime_seconds)}, then HTTP {value.expired_status}"
    if isinstance(value, CallbackPolicy):
        https = ", HTTPS only" if value.https_only else ""
        delays = ", ".join(f"{d:g}" for d in value.retry_delays)
        return f"callbacks to `{value.field}`{https}, retried after {delays} s"
    if isinstance(value, RateLimit):
        window = _seconds(value.per_seconds, per=True)
        return f"rate limit {value.requests} requests per {window} per {value.scope}"
    if isinstance(value, AuthSpec):
        return f"API keys matching `{value.key_pattern}`"
    return None


def _subject(value: Any) -> tuple[str, str]:
    """The group an inferred value belongs to, and what klingsim does, with its declared values."""
    request = _request_subject(value)
    if request is not None:
        return REQUESTS, request
    if isinstance(value, ErrorSpec):
        return ERRORS, f"{value.status} `{value.code}`"
    if isinstance(value, Envelope):
        return ERRORS, f"error body `{json.dumps(dict(value.template), ensure_ascii=False)}`"
    if isinstance(value, PriceTable):
        return PRICES, f"prices in {value.unit}, {str(value.settlement).replace('_', ' ')}"
    if isinstance(value, Rate):
        return PRICES, value.label or str(dict(value.match))
    if isinstance(value, Setting):
        return SETTINGS, f"`{value.name}` = `{value.value!r}`" + (
            f" ({value.description})" if value.description else ""
        )
    job = _job_subject(value)
    if job is not None:
        return JOBS, job
    name = getattr(value, "name", "") or getattr(value, "code", "") or getattr(value, "label", "")
    return JOBS, f"{type(value).__name__} `{name}`" if name else type(value).__name__


def _item(value: Any, context: str, name: str) -> Item | None:
    doc = getattr(value, "doc", None)
    if not isinstance(doc, DocRef) or not doc.inferred:
        return None
    if isinstance(value, Param):
        return Item(REQUESTS, context, _param(value, name), doc.reason)
    group, subject = _subject(value)
    return Item(group, context if group == REQUESTS else "", subject, doc.reason)


def _walk(value: Any, context: str = "", name: str = "", discriminator: str = "") -> Iterator[Item]:
    """Every inferred citation in a spec, with the endpoint/model it belongs to and the field's full name."""
    if isinstance(value, DocRef) or (callable(value) and not dataclasses.is_dataclass(value)):
        return
    if isinstance(value, tuple | list):
        for child in value:
            yield from _walk(child, context, name, discriminator)
        return
    if isinstance(value, dict):
        for child in value.values():
            yield from _walk(child, context, name, discriminator)
        return
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    if isinstance(value, Endpoint):
        context = f"`{value.method} {value.path}`"
    elif isinstance(value, Variant) and value.name != "default":
        context = f"{context}, {discriminator or 'variant'} `{value.name}`"
    elif isinstance(value, Param):
        name = f"{name}.{value.name}" if name and not value.name.endswith("[]") else value.name
    found = _item(value, context, name)
    if found is not None:
        yield found
    inner = getattr(value, "discriminator", discriminator) or discriminator
    for field in dataclasses.fields(value):
        if field.name not in ("doc", "hooks"):
            yield from _walk(getattr(value, field.name), context, name, inner)


def inferred_items(spec: ProviderSpec) -> list[Item]:
    return list(_walk(spec))


def _merged(items: list[Item]) -> list[tuple[str, str, str]]:
    """(context, subjects, reason): items sharing a context and a reason make one line, first-seen order."""
    merged: dict[tuple[str, str], list[str]] = {}
    for item in items:
        merged.setdefault((item.context, item.reason), []).append(item.subject)
    return [(context, "; ".join(subjects), reason) for (context, reason), subjects in merged.items()]


def render_provider(spec: ProviderSpec) -> list[str]:
    items = inferred_items(spec)
    out = [f"## {spec.title} — `{spec.id}`", "", f"{len(items)} inferred behaviours.", ""]
    for group in GROUPS:
        rows = _merged([i for i in items if i.group == group])
        if not rows:
            continue
        out += [f"### {group}", ""]
        context = ""
        for row_context, subject, reason in rows:
            if row_context and row_context != context:
                out.append(f"- {row_context}:")
            context = row_context
            indent = "  " if context else ""
            out.append(f"{indent}- {subject}: {reason}")
        out.append("")
    return out


def render_inferred() -> str:
    from klingsim.providers import ALL

    out = [
        "# Inferred behaviours",
        "",
        "Generated by `klingsim inferred` (`make docs`); `make test` fails when this page and the specs",
        "disagree. Each entry is a behaviour no provider page documents: what klingsim does, then why.",
        "Values under *Settings* can be changed per provider (`ProviderSpec.with_settings`).",
        "",
        "| provider | inferred |",
        "|---|---|",
        *(f"| [{spec.title}](#{spec.id}) | {len(inferred_items(spec))} |" for spec in ALL),
        "",
    ]
    for spec in ALL:
        out += [f'<a id="{spec.id}"></a>', "", *render_provider(spec)]
    return "\n".join(out).rstrip("\n") + "\n"
