"""The gateway suite as pytest items: one per rule, plus one for the run as a whole.

`pytest_plugin.py` registers `GatewayPlugin(...)` when `--klingsim-target` is given. The suite runs once,
when the first item runs; each item then reports its rule: a failure with the report's evidence, a skip
for a rule that was not exercised (never a pass), and the `run` item fails when the run could not judge
(an unreachable target, nothing exercised). Under pytest-xdist each worker runs the suite with its own
fresh key; runs sharing one upstream take turns for faults and clock moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from klingsim_contracts.report import Report


class GatewayFailure(Exception):
    """A rule the gateway departs from; the message is the report's evidence."""


class RuleItem(pytest.Item):
    def __init__(self, *, plugin: GatewayPlugin, rule_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin
        self.rule_id = rule_id

    def runtest(self) -> None:
        from klingsim_contracts.report import Verdict

        report = self.plugin.report()
        if self.rule_id == "run":
            if report.problems:
                raise GatewayFailure("; ".join(report.problems))
            return
        result = report.result(self.rule_id)
        for name, value in (("citation", result.rule.citation), ("kind", result.rule.kind)):
            self.user_properties.append((name, value))
        if result.verdict is Verdict.FAILED:
            raise GatewayFailure(report.failure_text(result))
        if result.verdict is Verdict.NOT_EXERCISED:
            pytest.skip(f"not exercised: {result.reason}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GatewayFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return f"klingsim-gateway:{self.plugin.provider}", None, self.rule_id


class GatewayPlugin:
    """Adds the gateway suite's items for `provider` against `target` to the pytest session."""

    def __init__(
        self,
        target: str,
        provider: str,
        api_key: str | None = None,
        upstream_control: str | None = None,
        max_examples: int | None = None,
        seed: int = 0,
        budget: str | None = None,
        yes_spend: bool = False,
    ) -> None:
        self.target = target
        self.provider = provider
        self.api_key = api_key
        self.upstream_control = upstream_control
        self.max_examples = max_examples
        self.seed = seed
        self.budget = budget
        self.yes_spend = yes_spend
        self._report: Report | None = None

    def report(self) -> Report:
        if self._report is None:
            from klingsim_contracts.runner import DEFAULT_MAX_EXAMPLES, run_gateway_suite

            self._report = run_gateway_suite(
                self.provider,
                self.target,
                api_key=self.api_key,
                upstream_control=self.upstream_control,
                max_examples=self.max_examples or DEFAULT_MAX_EXAMPLES,
                seed=self.seed,
                budget=self.budget,
                yes_spend=self.yes_spend,
            )
        return self._report

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from klingsim.providers import by_id
        from klingsim_contracts.rules import catalogue

        if not self.provider:
            raise pytest.UsageError(
                "--klingsim-target needs --klingsim-provider (the API the gateway implements)"
            )
        try:
            by_id(self.provider)
        except KeyError as unknown:
            raise pytest.UsageError(str(unknown.args[0])) from None
        rule_ids = [rule.id for rule in catalogue(by_id(self.provider))] + ["run"]
        for rule_id in rule_ids:
            items.append(
                RuleItem.from_parent(session, name=f"gateway[{rule_id}]", plugin=self, rule_id=rule_id)
            )
