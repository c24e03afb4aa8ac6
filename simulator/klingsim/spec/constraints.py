"""Cross-field constraints a single Param can't express, declared with an id, an error and a citation.

Each constraint judges `Facts`: the validated request, the values the provider's `derive` hook computed from
it (addressed as `@name`: EmpirioLabs' scenes, its resolved workflow), the probed length of media inputs
(`probed`), and the provider's settings (a limit may name a Setting with `FromSetting`). `check` returns
the broken constraint's message and parameter, or None; the engine turns it into the provider's error.
Messages are templates filled with the values the check found: `{count}`, `{limit}`, `{value}`, `{total}`,
`{target}`, `{index}` (0-based), `{index1}` (1-based), `{n0}`, `{n1}`... (one count per path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from klingsim.spec.doc import DocRef
from klingsim.spec.params import ForbiddenWhen, RequiredWhen, When, lookup, present


@dataclass(frozen=True, slots=True)
class FromSetting:
    """A limit that is a provider Setting (so changing the setting changes the rule)."""

    name: str


Limit = int | float | Decimal | FromSetting | None


class Facts:
    """What a constraint can see: the request, derived values, probed input seconds, settings."""

    __slots__ = ("_view", "derived", "probed", "request", "settings")

    def __init__(
        self,
        request: Mapping[str, Any],
        derived: Mapping[str, Any] | None = None,
        probed: Mapping[str, float] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.request = request
        self.derived = derived or {}
        self.probed = probed or {}
        self.settings = settings or {}
        self._view: Mapping[str, Any] | None = None

    def get(self, path: str) -> Any:
        if path.startswith("@"):
            return lookup(self.derived, path[1:])
        return lookup(self.request, path)

    def view(self) -> Mapping[str, Any]:
        """The request with the derived values as `@name` fields (what `When` conditions read)."""
        if self._view is None:
            derived = self.derived
            self._view = (
                {**self.request, **{f"@{k}": v for k, v in derived.items()}} if derived else self.request
            )
        return self._view

    def limit(self, value: Limit) -> Any:
        if isinstance(value, FromSetting):
            return _exact(self.settings[value.name])
        return value


def _exact(value: Any) -> Any:
    """Settings compare as exact decimals (scene seconds are Decimals); integers stay integers."""
    if isinstance(value, float):
        return Decimal(str(value))
    return value


Broken = tuple[str, str]  # (message, param)


def _items(value: Any, split: str) -> list[Any]:
    if not present(value):
        return []
    if split and isinstance(value, str):
        return [item.strip() for item in value.split(split)]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _count(value: Any) -> int:
    """How many things a field holds: a list's length, 1 for any other sent value, 0 when absent."""
    if isinstance(value, list | tuple):
        return len(value)
    return 1 if present(value) else 0


@dataclass(frozen=True, slots=True)
class _Base:
    id: str
    error: str
    doc: DocRef
    message: str
    when: tuple[When, ...] = ()
    enabled_by: str = ""  # a boolean Setting that switches the constraint off when false
    param: str = ""

    def active(self, facts: Facts) -> bool:
        if self.enabled_by and not facts.settings.get(self.enabled_by):
            return False
        if not self.when:
            return True
        view = facts.view()
        return all(w.holds(view) for w in self.when)


@dataclass(frozen=True, slots=True)
class Count(_Base):
    """The number of items at `path` (a list, a `split`-separated string, a derived list) is within range."""

    path: str = ""
    minimum: Limit = None
    maximum: Limit = None
    split: str = ""

    def check(self, facts: Facts) -> Broken | None:
        value = facts.get(self.path)
        if self.minimum is None and not present(value) and not self.path.startswith("@"):
            return None
        count = len(_items(value, self.split))
        low, high = facts.limit(self.minimum), facts.limit(self.maximum)
        if low is not None and count < low:
            return self.message.format(count=count, limit=low), self.param or self.path
        if high is not None and count > high:
            return self.message.format(count=count, limit=high), self.param or self.path
        return None


@dataclass(frozen=True, slots=True)
class NoEmptyItems(_Base):
    """A `split`-separated list (EmpirioLabs' comma-separated URLs) has no empty item."""

    path: str = ""
    split: str = ","

    def check(self, facts: Facts) -> Broken | None:
        if any(not item for item in _items(facts.get(self.path), self.split)):
            return self.message.format(), self.param or self.path
        return None


@dataclass(frozen=True, slots=True)
class EachItem(_Base):
    """Every item of the list at `path` has `field` matching `pattern` and at least `minimum`."""

    path: str = ""
    field: str = ""
    pattern: str = ""
    minimum: Limit = None

    def check(self, facts: Facts) -> Broken | None:
        low = facts.limit(self.minimum)
        for index, item in enumerate(_items(facts.get(self.path), "")):
            value = item.get(self.field) if isinstance(item, dict) else getattr(item, self.field)
            bad = bool(self.pattern) and not (isinstance(value, str) and re.fullmatch(self.pattern, value))
            number = _decimal(value) if not bad and low is not None else None
            if bad or (low is not None and (number is None or number < low)):
                fill = {"index": index, "index1": index + 1, "value": value, "limit": low}
                return self.message.format(**fill), (self.param or self.path).format(**fill)
        return None


@dataclass(frozen=True, slots=True)
class Total(_Base):
    """The sum of `field` over the items at `path` equals the request's `equals` field, or is in range."""

    path: str = ""
    field: str = ""
    equals: str = ""
    minimum: Limit = None
    maximum: Limit = None

    def check(self, facts: Facts) -> Broken | None:
        items = _items(facts.get(self.path), "")
        if not items:
            return None
        values = [_decimal(item.get(self.field) if isinstance(item, dict) else None) for item in items]
        if any(v is None for v in values):
            return None  # an item without a number is its own field rule's to refuse
        total = _plain(sum((v for v in values if v is not None), Decimal(0)))
        if self.equals:
            target = facts.get(self.equals)
            if total != _decimal(target):
                return self.message.format(total=total, target=target), self.param or self.path
            return None
        low, high = facts.limit(self.minimum), facts.limit(self.maximum)
        if (low is not None and total < low) or (high is not None and total > high):
            return self.message.format(total=total, minimum=low, maximum=high), self.param or self.path
        return None


def _decimal(value: Any) -> Decimal | None:
    """A number, or a string of one (Kling's durations are strings), as an exact decimal; else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> int | Decimal:
    """Whole totals read as integers in messages ("4 s", not "4.0 s")."""
    return int(number) if number == number.to_integral_value() else number


def _as_number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class CountAcross(_Base):
    """The things sent in all of `paths` together (a list counts its items, another value 1) are at most
    `maximum` (EvoLink: reference images + elements <= 4 when a video is given)."""

    paths: tuple[str, ...] = ()
    maximum: Limit = None

    def check(self, facts: Facts) -> Broken | None:
        counts = [_count(facts.get(p)) for p in self.paths]
        high = facts.limit(self.maximum)
        if high is not None and sum(counts) > high:
            fill = {f"n{i}": n for i, n in enumerate(counts)}
            return self.message.format(count=sum(counts), limit=high, **fill), self.param or self.paths[0]
        return None


@dataclass(frozen=True, slots=True)
class Bound(_Base):
    """A single (often derived) number at `path` is within range (EmpirioLabs' total scene seconds)."""

    path: str = ""
    minimum: Limit = None
    maximum: Limit = None

    def check(self, facts: Facts) -> Broken | None:
        value = facts.get(self.path)
        number = _decimal(value)
        if number is None:
            return None  # absent, or not a number: the field's own rule refuses that
        low, high = facts.limit(self.minimum), facts.limit(self.maximum)
        if (low is not None and number < low) or (high is not None and number > high):
            return self.message.format(value=value, limit=high if high is not None else low), self.param
        return None


@dataclass(frozen=True, slots=True)
class ProbedRange(_Base):
    """A media input the engine could probe (a klingsim output) lasts `minimum`-`maximum` seconds; inputs it
    can't probe are taken on trust.

    `path` names a top-level field (`video_url`) or a field of a list's items (`video_list[].video_url`):
    the engine probes each item and records it as `video_list[0].video_url`, ...; every item is checked and
    the message may name the item (`{index}`, `{index1}`)."""

    path: str = ""
    minimum: Limit = None
    maximum: Limit = None

    def check(self, facts: Facts) -> Broken | None:
        low, high = facts.limit(self.minimum), facts.limit(self.maximum)
        for key, index, seconds in self._probed(facts.probed):
            if (low is not None and seconds < low) or (high is not None and seconds > high):
                text = self.message.format(
                    value=seconds, minimum=low, maximum=high, index=index, index1=index + 1
                )
                return text, self.param or key
        return None

    def _probed(self, probed: Mapping[str, float]) -> list[tuple[str, int, float]]:
        """(probed key, item index, seconds) of each input this range covers, in item order."""
        if "[]" not in self.path:
            seconds = probed.get(self.path)
            return [] if seconds is None else [(self.path, 0, seconds)]
        head, _, tail = self.path.partition("[]")
        pattern = re.compile(re.escape(head) + r"\[([0-9]+)\]" + re.escape(tail))
        found = [(key, m, value) for key, value in probed.items() if (m := pattern.fullmatch(key))]
        return sorted(((key, int(m.group(1)), value) for key, m, value in found), key=lambda f: f[1])


@dataclass(frozen=True, slots=True)
class TypeIs(_Base):
    """A body field, when it has the JSON type `if_type` (any, when empty), has type `type`: checked on the
    normalised body before the variant is chosen (Prospolabs' `params` object, a JSON-string storyboard)."""

    path: str = ""
    type: str = "object"
    if_type: str = ""

    def check(self, facts: Facts) -> Broken | None:
        value = facts.get(self.path)
        if value is None and self.path not in facts.request:
            return None
        if self.if_type and _json_type(value) != self.if_type:
            return None
        if _json_type(value) != self.type:
            return self.message.format(), self.param or self.path
        return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


@dataclass(frozen=True, slots=True)
class Check(_Base):
    """A documented rule too particular for the kinds above, as a pure test over the facts (EvoLink's
    `<<<element_N>>>` references): it returns (message, param) when the request breaks it."""

    test: Callable[[Facts], Broken | None] = field(default=lambda facts: None)

    def check(self, facts: Facts) -> Broken | None:
        return self.test(facts)


Constraint = Count | NoEmptyItems | EachItem | Total | CountAcross | Bound | ProbedRange | TypeIs | Check
AnyConstraint = Constraint | RequiredWhen | ForbiddenWhen


def check_rule(rule: RequiredWhen | ForbiddenWhen, facts: Facts, sent: Mapping[str, Any]) -> Broken | None:
    """A required-when or forbidden-when rule over the facts (`sent`: the body before defaults)."""
    view = facts.view()
    if not rule.applies(view):
        return None
    return rule_broken(rule, view, sent)


def rule_broken(
    rule: RequiredWhen | ForbiddenWhen, view: Mapping[str, Any], sent: Mapping[str, Any]
) -> Broken | None:
    """What a rule whose condition holds says about the request, or None when it is kept."""
    if isinstance(rule, RequiredWhen):
        if any(present(lookup(view, f), rule.nonblank) for f in rule.any_of):
            return None
        return rule.message, rule.param or rule.any_of[0]
    for name in rule.fields:
        if present(lookup(sent, name)):
            return rule.message or f"{name} is not allowed with this request", name
    return None


def first_broken(constraints: tuple[Any, ...], facts: Facts) -> tuple[Any, Broken] | None:
    """The first active constraint the facts break, in declaration order, with its message and param."""
    for constraint in constraints:
        if isinstance(constraint, RequiredWhen | ForbiddenWhen):
            broken = check_rule(constraint, facts, facts.request)
            if broken is not None:
                return constraint, broken
            continue
        if not constraint.active(facts):
            continue
        broken = constraint.check(facts)
        if broken is not None:
            return constraint, broken
    return None
