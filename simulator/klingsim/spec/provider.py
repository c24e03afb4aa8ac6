"""The whole description of one provider, and the small pure hooks for shapes that can't be declared."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef
from klingsim.spec.errors import Envelope, ErrorRole, ErrorSpec
from klingsim.spec.lifecycle import Lifecycle, Phase
from klingsim.spec.params import Param, Variant
from klingsim.spec.pricing import PriceTable


class Action(StrEnum):
    """What an endpoint does; the engine implements each action once for every provider."""

    CREATE = "create"
    STATUS = "status"
    BALANCE = "balance"
    USAGE = "usage"
    MODELS = "models"


@dataclass(frozen=True, slots=True)
class BodySpec:
    """A JSON request body; `discriminator` names the field that picks the variant (model or task type)."""

    variants: tuple[Variant, ...]
    discriminator: str = ""
    unknown_variant_error: str = ""

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


@dataclass(frozen=True, slots=True)
class Endpoint:
    action: Action
    method: str
    path: str
    doc: DocRef
    summary: str
    body: BodySpec | None = None
    id_param: str = ""
    id_in: str = "path"
    query: tuple[Param, ...] = ()
    errors: tuple[str, ...] = ()
    success_status: int = 200


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """Bearer keys; `also_headers` are further headers carrying the bare key (EmpirioLabs' `x-api-key`)."""

    key_pattern: str
    doc: DocRef
    example_key: str
    also_headers: tuple[str, ...] = ()

    def valid_format(self, key: str) -> bool:
        return re.fullmatch(self.key_pattern, key) is not None


@dataclass(frozen=True, slots=True)
class IdFormat:
    """Job ids: one template per id family (`{hex:N}`, `{alnum:N}` lowercase, `{unix}`) and the shape a
    valid id must have."""

    templates: Mapping[str, str]
    pattern: str
    doc: DocRef


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Output URL lifetime and what a request after expiry gets."""

    lifetime_seconds: int
    expired_status: int
    doc: DocRef
    expired_body: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    per_seconds: int
    doc: DocRef
    scope: str = "key"


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """Who gets told when a job ends, and how delivery is retried."""

    field: str
    doc: DocRef
    https_only: bool = True
    refuse_private: bool = True
    max_length: int = 2048
    timeout_seconds: float = 10.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    error: str = ""


@dataclass(frozen=True, slots=True)
class Setting:
    """A value no page documents, named so users can see and change it."""

    name: str
    value: Any
    doc: DocRef
    description: str = ""


class Violation(Exception):
    """The request breaks a documented rule; `code` names an error of the provider's catalogue."""

    def __init__(self, code: str, message: str = "", param: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.param = param


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """What the finished job's video will be."""

    aspect_ratio: str
    lines: int
    seconds: float
    audio: bool
    count: int = 1


@dataclass(frozen=True, slots=True)
class Plan:
    """What a valid request costs and produces, computed by the provider's `plan` hook.

    `wait`: the create answers the finished job (a synchronous API, Prospolabs), not the queued one; the
    wait is bounded by the provider's `sync_wait_seconds` setting.
    """

    price_key: Mapping[str, Any]
    billed_seconds: float
    output: OutputPlan
    id_family: str = "default"
    extra: Mapping[str, Any] = field(default_factory=dict)
    wait: bool = False


@dataclass(frozen=True, slots=True)
class JobView:
    """A read-only snapshot of a job, for the provider's response hooks."""

    id: str
    variant: str
    phase: Phase
    status: str
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    request: Mapping[str, Any]
    outputs: tuple[str, ...]
    cost: Decimal
    plan: Plan
    error_code: str | None
    error_message: str | None
    settings: Mapping[str, Any]
    planned_seconds: float = 0.0  # creation to planned end (queue + render), drawn when the job was created


@dataclass(frozen=True, slots=True)
class AccountView:
    provider: str
    key: str
    balance: Decimal
    spent: Decimal
    entries: tuple[Mapping[str, Any], ...]
    settings: Mapping[str, Any]
    jobs: tuple[JobView, ...] = ()  # the account's jobs, oldest first (EmpirioLabs' usage events)


@dataclass(frozen=True, slots=True)
class Hooks:
    """Pure functions for what can't be declared: request normalisation, planning, and response shapes."""

    plan: Callable[[str, dict[str, Any], Mapping[str, Any]], Plan]
    render_created: Callable[[JobView], dict[str, Any]]
    render_job: Callable[[JobView], dict[str, Any]]
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    render_balance: Callable[[AccountView], dict[str, Any]] | None = None
    render_usage: Callable[[AccountView, Mapping[str, str]], dict[str, Any]] | None = None
    render_models: Callable[[], dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    id: str
    title: str
    base_url: str
    hosts: tuple[str, ...]
    docs: tuple[DocRef, ...]
    models: tuple[str, ...]
    auth: AuthSpec
    endpoints: tuple[Endpoint, ...]
    errors: tuple[ErrorSpec, ...]
    envelope: Envelope
    roles: Mapping[ErrorRole, str]
    lifecycle: Lifecycle
    prices: PriceTable
    urls: UrlPolicy
    ids: IdFormat
    hooks: Hooks
    rate_limit: RateLimit | None = None
    callbacks: CallbackPolicy | None = None
    settings: tuple[Setting, ...] = ()

    def error(self, code: str) -> ErrorSpec:
        for err in self.errors:
            if err.code == code:
                return err
        raise KeyError(f"{self.id} has no error {code!r}")

    def role(self, role: ErrorRole) -> ErrorSpec:
        return self.error(self.roles[role])

    def endpoint(self, action: Action) -> Endpoint:
        return next(e for e in self.endpoints if e.action is action)

    def setting_values(self) -> dict[str, Any]:
        return {s.name: s.value for s in self.settings}

    def with_settings(self, overrides: Mapping[str, Any]) -> ProviderSpec:
        """A copy with some inferred settings changed; unknown names are an error, not ignored."""
        known = {s.name for s in self.settings}
        unknown = set(overrides) - known
        if unknown:
            raise KeyError(f"{self.id} has no settings {sorted(unknown)}; known: {sorted(known)}")
        settings = tuple(
            dataclasses.replace(s, value=overrides[s.name]) if s.name in overrides else s
            for s in self.settings
        )
        # A `status_word_<phase>` setting renames that phase's word everywhere the lifecycle is read.
        words = {p: overrides.get(f"status_word_{p}", w) for p, w in self.lifecycle.words.items()}
        lifecycle = dataclasses.replace(self.lifecycle, words=words)
        return dataclasses.replace(self, settings=settings, lifecycle=lifecycle)
