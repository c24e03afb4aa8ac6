"""Job lifecycle: engine phases, the provider's exact status words, and plausible render durations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef


class Phase(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


TERMINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED})

DEFAULT_EDGES: tuple[tuple[Phase, Phase], ...] = (
    (Phase.QUEUED, Phase.RUNNING),
    (Phase.QUEUED, Phase.FAILED),
    (Phase.RUNNING, Phase.SUCCEEDED),
    (Phase.RUNNING, Phase.FAILED),
)


@dataclass(frozen=True, slots=True)
class RenderTime:
    """How long a job waits and renders, drawn uniformly from these ranges (seconds) by a seeded generator.

    Render time = uniform(base) + output seconds x uniform(per_output_second), times the factor of the first
    matching entry of `factors` (a mapping of request fields to values, and the factor).
    """

    queued: tuple[float, float]
    base: tuple[float, float]
    per_output_second: tuple[float, float]
    doc: DocRef
    factors: tuple[tuple[Mapping[str, Any], float], ...] = ()


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The provider's status word for each engine phase (two phases may share a word) and its edges."""

    words: Mapping[Phase, str]
    render: RenderTime
    doc: DocRef
    edges: tuple[tuple[Phase, Phase], ...] = DEFAULT_EDGES

    def word(self, phase: Phase) -> str:
        return self.words[phase]

    @property
    def terminal_words(self) -> frozenset[str]:
        return frozenset(self.words[p] for p in TERMINAL_PHASES)

    def allows(self, before: Phase, after: Phase) -> bool:
        return (before, after) in self.edges
