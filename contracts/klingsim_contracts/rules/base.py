"""What a rule is, and how a check reports a departure or that it could not run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from klingsim.spec import DocRef

if TYPE_CHECKING:
    from klingsim_contracts.session import Exchange, Session


class Layer(StrEnum):
    PASSIVE = "passive"  # judged on every answer the other layers provoke
    PROPERTY = "property"  # Hypothesis examples, boundary-first
    SCHEMA = "schema"  # schemathesis over the provider's OpenAPI
    SANDWICH = "sandwich"  # needs the upstream klingsim's control plane
    STATEFUL = "stateful"  # the lifecycle and ledger state machine


class Need(StrEnum):
    CLOCK = "clock"  # a virtual upstream clock to move
    ACCOUNTS = "accounts"  # upstream balances to read and set
    FAULTS = "faults"  # upstream fault injection


@dataclass(frozen=True)
class Rule:
    """One documented (or inferred) behaviour of one provider, with the check that judges a target."""

    id: str
    provider: str
    title: str
    doc: DocRef
    layer: Layer
    check: Callable[[Session], None] | None = None
    needs: frozenset[Need] = frozenset()
    order: int = 0  # higher runs later (rate-limit bursts run last)
    # What of the spec the rule judges: constraint ids (`evolink.shots-sum`), field rules
    # (`duration:maximum`), error codes; the catalogue coverage test maps each of them to a rule.
    covers: frozenset[str] = frozenset()

    @property
    def kind(self) -> str:
        return "inferred" if self.doc.inferred else "documented"

    @property
    def citation(self) -> str:
        return self.doc.cite()


@dataclass
class RuleFailure(Exception):
    """The target departed from the rule; `exchanges` are the requests that show it, in order."""

    rule_id: str
    expected: str
    actual: str
    exchanges: list[Exchange] = field(default_factory=list)
    input: Any = None

    def __str__(self) -> str:
        return f"{self.rule_id}: expected {self.expected}; got {self.actual}"


class NotExercised(Exception):
    """The rule could not be judged against this target (say why)."""


class Drained(Exception):
    """The account ran out of credits and the kit could not top it up: later answers prove nothing."""
