"""Request parameters and the cross-field rules between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef


class ParamType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ARRAY = "array"
    OBJECT = "object"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class Param:
    """One documented field: type, default, range, enum, lengths, and the provider error code on violation.

    `error` names an entry of the provider's error catalogue; empty means the provider's generic validation
    error. `whole` on a NUMBER rejects fractions; `numeric_strings` accepts "5" for a number (lenient
    providers).
    `format` names what a string holds beyond its type: "image-url", "video-url", "image-url-or-base64",
    "https-url"; the engine checks what it can without fetching anything outside the simulator.
    """

    name: str
    type: ParamType
    doc: DocRef
    required: bool = False
    default: Any = NO_DEFAULT
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None
    items: Param | None = None
    properties: tuple[Param, ...] = ()
    whole: bool = False
    numeric_strings: bool = False
    nullable: bool = False
    error: str = ""
    format: str = ""
    description: str = ""
    example: Any = NO_DEFAULT
    type_message: str = ""  # replaces "must be <type>" when the value has the wrong JSON type

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def property(self, name: str) -> Param | None:
        return next((p for p in self.properties if p.name == name), None)


def lookup(body: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`model_params.multi_shot`) of a request, or None."""
    if "." not in path:
        return body.get(path)
    cur: Any = body
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def present(value: Any, nonblank: bool = False) -> bool:
    """Sent and not empty (`nonblank`: a string of spaces counts as empty too)."""
    if nonblank and isinstance(value, str):
        return bool(value.strip())
    return value is not None and value not in ("", [])


@dataclass(frozen=True, slots=True)
class When:
    """A condition on one field of the (defaulted) request: one of `values`, or ending with `suffixes`, or
    (`present`) sent and not empty; `negate` turns it around. `field` may be a dotted path, or `@name` for a
    value the provider's `derive` hook computed (EmpirioLabs' resolved workflow)."""

    field: str
    values: tuple[Any, ...] = ()
    suffixes: tuple[str, ...] = ()
    present: bool = False
    negate: bool = False

    def holds(self, body: Mapping[str, Any]) -> bool:
        value = body.get(self.field) if "." not in self.field else lookup(body, self.field)
        if self.present:
            found = present(value)
        elif self.values and value in self.values:
            found = True
        else:
            found = bool(self.suffixes) and isinstance(value, str) and value.endswith(self.suffixes)
        return found is not self.negate


@dataclass(frozen=True, slots=True)
class RequiredWhen:
    """When `when` holds, at least one of `any_of` must be present and non-empty."""

    any_of: tuple[str, ...]
    when: When
    error: str
    doc: DocRef
    message: str = ""
    id: str = ""
    also: tuple[When, ...] = ()  # further conditions, all of which must hold too
    nonblank: bool = False  # a string of spaces counts as missing
    param: str = ""  # the field the error names (default: the first of `any_of`)

    def applies(self, body: Mapping[str, Any]) -> bool:
        return self.when.holds(body) and (not self.also or all(w.holds(body) for w in self.also))


@dataclass(frozen=True, slots=True)
class ForbiddenWhen:
    """When `when` holds, none of `fields` may be present."""

    fields: tuple[str, ...]
    when: When
    error: str
    doc: DocRef
    message: str = ""
    id: str = ""
    also: tuple[When, ...] = ()

    def applies(self, body: Mapping[str, Any]) -> bool:
        return self.when.holds(body) and (not self.also or all(w.holds(body) for w in self.also))


Rule = RequiredWhen | ForbiddenWhen


@dataclass(frozen=True, slots=True)
class Variant:
    """The parameter set of one model (or task type) accepted on an endpoint."""

    name: str
    params: tuple[Param, ...]
    doc: DocRef
    rules: tuple[Rule, ...] = ()
    description: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    # Cross-field constraints beyond `rules` (klingsim.spec.constraints), checked after them, in order.
    constraints: tuple[Any, ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)
