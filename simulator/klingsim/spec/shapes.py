"""Declared response shapes: fields, JSON types and units, from which the OpenAPI response schemas derive and
against which the renderers' answers (and a gateway's, in the contract kit) are checked.

A unit says what a value means beyond its JSON type: a progress is a `fraction` (0-1) for one provider and a
`percent` (0-100) for another, a time is `epoch-s`, `epoch-ms` or `iso-8601`. Two units refer to the spec
itself: `status` (one of the lifecycle's words, as configured) and `job-id` (the provider's id format).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef


class Unit(StrEnum):
    NONE = ""
    FRACTION = "fraction"  # 0 to 1
    PERCENT = "percent"  # 0 to 100
    EPOCH_S = "epoch-s"  # Unix seconds
    EPOCH_MS = "epoch-ms"  # Unix milliseconds
    ISO_8601 = "iso-8601"  # 2026-01-01T00:00:00Z
    SECONDS = "seconds"  # a duration
    MILLISECONDS = "milliseconds"  # a duration
    MONEY = "money"  # in the price table's unit
    URL = "url"
    STATUS = "status"  # one of the lifecycle's words
    JOB_ID = "job-id"  # the provider's id format
    ERROR_CODE = "error-code"  # a code of the provider's error catalogue (or a failure code)
    BYTES = "bytes"  # a size: the byte count of the file beside it (fal's file_size)


@dataclass(frozen=True, slots=True)
class Shape:
    """A JSON value: `type` is a JSON Schema type name; objects list `fields`, arrays their `items`.

    `open` objects may carry fields beyond the declared ones. `string_number` marks a number sent as a
    string (Kling's `"5.1"` durations).
    """

    type: str
    fields: tuple[Field, ...] = ()
    items: Shape | None = None
    enum: tuple[Any, ...] | None = None
    unit: Unit = Unit.NONE
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    pattern: str = ""
    description: str = ""
    doc: DocRef | None = None
    open: bool = True
    string_number: bool = False

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def paths(self, prefix: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Shape]]:
        """Every (path, shape) below and including this one; list items are at index 0."""
        found: list[tuple[tuple[str | int, ...], Shape]] = [(prefix, self)]
        for f in self.fields:
            found += f.shape.paths((*prefix, f.name))
        if self.items is not None:
            found += self.items.paths((*prefix, 0))
        return found

    def with_unit(self, unit: Unit) -> list[tuple[str | int, ...]]:
        """The paths of the values carrying `unit` (where a response keeps its id, status, progress...)."""
        return [path for path, shape in self.paths() if shape.unit is unit]


@dataclass(frozen=True, slots=True)
class Field:
    """A named member of an object; `required`: present in every answer (its value may still be null)."""

    name: str
    shape: Shape
    required: bool = True


# ----------------------------------------------------------------------------------- constructors
def string(
    *,
    enum: tuple[Any, ...] | None = None,
    unit: Unit = Unit.NONE,
    nullable: bool = False,
    pattern: str = "",
    description: str = "",
    string_number: bool = False,
) -> Shape:
    return Shape(
        "string",
        enum=enum,
        unit=unit,
        nullable=nullable,
        pattern=pattern,
        description=description,
        string_number=string_number,
    )


def integer(
    *,
    unit: Unit = Unit.NONE,
    nullable: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    enum: tuple[Any, ...] | None = None,
    description: str = "",
) -> Shape:
    return Shape(
        "integer",
        unit=unit,
        nullable=nullable,
        minimum=minimum,
        maximum=maximum,
        enum=enum,
        description=description,
    )


def number(
    *,
    unit: Unit = Unit.NONE,
    nullable: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    description: str = "",
) -> Shape:
    return Shape(
        "number", unit=unit, nullable=nullable, minimum=minimum, maximum=maximum, description=description
    )


def boolean(*, nullable: bool = False, description: str = "") -> Shape:
    return Shape("boolean", nullable=nullable, description=description)


def array(items: Shape, *, nullable: bool = False, description: str = "") -> Shape:
    return Shape("array", items=items, nullable=nullable, description=description)


def obj(*fields: Field, nullable: bool = False, description: str = "", open: bool = True) -> Shape:
    return Shape("object", fields=fields, nullable=nullable, description=description, open=open)


def anything(description: str = "") -> Shape:
    """A value whose shape is the caller's own (an echoed request)."""
    return Shape("any", description=description)


def req(name: str, shape: Shape) -> Field:
    """A field present in every answer."""
    return Field(name, shape, required=True)


def opt(name: str, shape: Shape) -> Field:
    """A field present in some answers only (a result once the job succeeded)."""
    return Field(name, shape, required=False)
