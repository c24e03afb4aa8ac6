"""Request parameters and the cross-field rules between them."""

from __future__ import annotations

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

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def property(self, name: str) -> Param | None:
        return next((p for p in self.properties if p.name == name), None)


@dataclass(frozen=True, slots=True)
class When:
    """A condition on one field of the (defaulted) request: one of `values`, or ending with `suffixes`."""

    field: str
    values: tuple[Any, ...] = ()
    suffixes: tuple[str, ...] = ()

    def holds(self, body: dict[str, Any]) -> bool:
        value = body.get(self.field)
        if self.values and value in self.values:
            return True
        return bool(self.suffixes) and isinstance(value, str) and value.endswith(self.suffixes)


@dataclass(frozen=True, slots=True)
class RequiredWhen:
    """When `when` holds, at least one of `any_of` must be present and non-empty."""

    any_of: tuple[str, ...]
    when: When
    error: str
    doc: DocRef
    message: str = ""


@dataclass(frozen=True, slots=True)
class ForbiddenWhen:
    """When `when` holds, none of `fields` may be present."""

    fields: tuple[str, ...]
    when: When
    error: str
    doc: DocRef
    message: str = ""


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

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)
