"""The run's report: per rule passed / failed / not exercised; per failure the evidence to act on it."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from klingsim.core.auth import AuthError, parse_jwt
from klingsim.spec import JwtHs256
from klingsim_contracts.rules.base import Rule, RuleFailure
from klingsim_contracts.session import JWT_VARIABLE, KEY_PLACEHOLDER, SECRET_PLACEHOLDER, Exchange


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_EXERCISED = "not exercised"


@dataclass
class Result:
    rule: Rule
    verdict: Verdict
    reason: str = ""
    failure: RuleFailure | None = None
    seconds: float = 0.0


@dataclass
class Report:
    provider: str
    target: str
    seed: int
    max_examples: int
    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the run could not judge: unreachable, nothing run
    api_key: str = ""
    secret_key: str = ""  # the SecretKey the kit signed the run key's JWTs with (official Kling)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # the estimate, what was spent, a drained account
    command: list[str] = field(default_factory=list)  # the command line that repeats this run
    estimate: Decimal | None = None
    spent: Decimal = Decimal(0)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.verdict is Verdict.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems

    @property
    def exit_code(self) -> int:
        """0: every exercised rule passed; 1: a rule failed; 2: the run could not judge."""
        if self.failed:
            return 1
        return 2 if self.problems else 0

    def rerun(self, rule_id: str | None = None) -> str:
        argv = self.command or [
            "klingsim",
            "check",
            "gateway",
            "--provider",
            self.provider,
            "--target",
            self.target,
            "--seed",
            str(self.seed),
        ]
        if rule_id is not None and "--rule" not in argv:
            argv = [*argv, "--rule", rule_id]
        placeholders = (KEY_PLACEHOLDER, SECRET_PLACEHOLDER)
        line = " ".join(a if a in placeholders else shlex.quote(a) for a in argv)
        for placeholder in placeholders:
            line = line.replace(placeholder, f'"{placeholder}"')
        return line

    def failed_ids(self) -> set[str]:
        return {r.rule.id for r in self.failed}

    def result(self, rule_id: str) -> Result:
        return next(r for r in self.results if r.rule.id == rule_id)

    # ------------------------------------------------------------------ text
    def table(self) -> str:
        width = max((len(r.rule.id) for r in self.results), default=10)
        lines = [f"{'rule':<{width}}  {'verdict':<13}  kind        layer     note"]
        for r in self.results:
            note = r.reason if r.verdict is Verdict.NOT_EXERCISED else ""
            lines.append(
                f"{r.rule.id:<{width}}  {r.verdict.value:<13}  {r.rule.kind:<10}  {r.rule.layer:<8}  {note}"
            )
        lines.append(
            f"{self.provider}: {self.count(Verdict.PASSED)} passed, {self.count(Verdict.FAILED)} failed, "
            f"{self.count(Verdict.NOT_EXERCISED)} not exercised in {self.seconds:.1f} s (seed {self.seed})"
        )
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"RUN COULD NOT JUDGE: {p}" for p in self.problems]
        lines.append(f"rerun: {self.rerun()}")
        return "\n".join(lines)

    def failure_text(self, result: Result) -> str:
        f = result.failure
        assert f is not None
        lines = [
            f"FAILED {result.rule.id} ({result.rule.kind}): {result.rule.title}",
            f"  source:   {result.rule.citation}",
            f"  expected: {_shown(f.expected)}",
            f"  actual:   {_shown(f.actual)}",
        ]
        sent = _failing_request(f)
        if sent:
            lines.append(f"  failing request: {sent}")
        lines.append(f"  rerun: {self.rerun()}")
        lines.append(f"  rerun this rule: {self.rerun(result.rule.id)}")
        lines.append("  replay (bash; setup steps on the upstream control plane included):")
        script = replay(f.exchanges, self.api_key, f.expected, signed=bool(self.secret_key))
        lines += ["    " + line for line in script.splitlines()]
        return "\n".join(lines)

    def text(self) -> str:
        return "\n\n".join([*(self.failure_text(r) for r in self.failed), self.table()])

    # ------------------------------------------------------------------ JUnit
    def junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"klingsim-gateway-{self.provider}",
            tests=str(len(self.results)),
            failures=str(self.count(Verdict.FAILED)),
            skipped=str(self.count(Verdict.NOT_EXERCISED)),
            time=f"{self.seconds:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (("target", self.target), ("seed", str(self.seed)), ("provider", self.provider)):
            ET.SubElement(props, "property", name=name, value=value)
        for r in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"klingsim.{self.provider}.{r.rule.layer}",
                name=r.rule.id,
                time=f"{r.seconds:.3f}",
            )
            cprops = ET.SubElement(case, "properties")
            for name, value in (
                ("rule_id", r.rule.id),
                ("provider", r.rule.provider),
                ("citation", r.rule.citation),
                ("kind", r.rule.kind),
                ("layer", str(r.rule.layer)),
                ("title", r.rule.title),
            ):
                ET.SubElement(cprops, "property", name=name, value=value)
            if r.verdict is Verdict.FAILED and r.failure is not None:
                node = ET.SubElement(case, "failure", message=str(r.failure)[:500])
                node.text = self.failure_text(r)
            elif r.verdict is Verdict.NOT_EXERCISED:
                ET.SubElement(case, "skipped", message=f"not exercised: {r.reason}")
        for problem in self.problems:
            case = ET.SubElement(suite, "testcase", classname=f"klingsim.{self.provider}", name="run")
            ET.SubElement(case, "failure", message=problem)
        return ET.tostring(suite, encoding="unicode")


# Mints the run key's JWT like Kling's sample code (HS256; iss = AccessKey, exp = now + 1800, nbf = now - 5).
_MINT = (
    "python3 -c 'import base64,hashlib,hmac,json,sys,time\n"
    'b=lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()\n'
    'n=int(time.time()); h=b(json.dumps({"alg":"HS256","typ":"JWT"}).encode())\n'
    'p=b(json.dumps({"iss":sys.argv[1],"exp":n+1800,"nbf":n-5}).encode())\n'
    'print(h+"."+p+"."+b(hmac.new(sys.argv[2].encode(),(h+"."+p).encode(),hashlib.sha256).digest()))\''
)


def _tokens(exchanges: list[Exchange], key: str) -> dict[str, str]:
    """The run key's JWTs in the recorded headers, each to be replaced by a freshly minted one."""
    found: dict[str, str] = {}
    for ex in exchanges:
        for value in ex.headers.values():
            token = value.rpartition(" ")[2]
            if token.count(".") != 2:
                continue
            try:
                claims = parse_jwt(token, JwtHs256()).claims
            except AuthError:
                continue  # a header that is not a JWT stays as sent
            if key and key in claims.values():
                found[token] = JWT_VARIABLE
    return found


def replay(exchanges: list[Exchange], key: str, expected: str = "", signed: bool = False) -> str:
    """A runnable bash script: every request in order (upstream setup included), job ids captured with a
    small python helper and passed on in double-quoted strings; set -euo pipefail stops at a broken step.

    `signed`: the run key's requests carry JWTs (the official Kling API); the script mints a fresh one from
    $KLINGSIM_API_KEY and $KLINGSIM_SECRET_KEY instead of replaying tokens that expire."""
    if not exchanges:
        return "(no request recorded)"
    lines = [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        f': "${{{KEY_PLACEHOLDER[1:]}:?set the API key the gateway expects}}"',
        "json_at() { python3 -c 'import json,sys; d=json.load(sys.stdin)\nfor k in sys.argv[1:]: "
        'd=d[int(k)] if isinstance(d,list) else d[k]\nprint(d)\' "$@"; }',
    ]
    ids: dict[str, str] = _tokens(exchanges, key) if signed else {}
    if ids:
        secret = SECRET_PLACEHOLDER[1:]
        lines.append(f': "${{{secret}:?set the SecretKey of ${KEY_PLACEHOLDER[1:]}}}"')
        lines.append(f'{JWT_VARIABLE}=$({_MINT} "${KEY_PLACEHOLDER[1:]}" "${secret}")')
    for i, ex in enumerate(exchanges, 1):
        command = ex.curl(key, ids)
        lines.append(f"# step {i}: {ex.step or ex.method} (answered {ex.status})")
        lines.append(f"R{i}=$({command})")
        lines.append(f"S{i}=${{R{i}##*$'\\n'}}; R{i}=${{R{i}%$'\\n'*}}")
        lines.append(f'echo "$S{i} $R{i}"')
        new_id = ex.created_id
        path = _json_path(ex.response, new_id) if new_id else None
        if new_id and new_id not in ids and path is not None:
            var = f"JOB{sum(1 for v in ids.values() if v.startswith('JOB')) + 1}"
            ids[new_id] = var
            keys = " ".join(shlex.quote(str(k)) for k in path)
            lines.append(f'{var}=$(printf %s "$R{i}" | json_at {keys})')
    last = len(exchanges)
    seen = exchanges[-1].status
    lines.append(
        f"# The kit saw status {seen} here when the rule failed; the rule expects: {expected or '-'}"
    )
    lines.append(f'if [ "$S{last}" = "{seen}" ]; then')
    lines.append(
        f"  echo {shlex.quote(f'reproduced: status {seen} again (expected: {expected})')} >&2; exit 1"
    )
    lines.append("fi")
    lines.append(f'echo "not reproduced: status $S{last}" >&2')
    return "\n".join(lines)


def _json_path(doc: Any, value: str, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    if doc == value:
        return path
    items: list[tuple[str | int, Any]] = []
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    for k, v in items:
        found = _json_path(v, value, (*path, k))
        if found is not None:
            return found
    return None


def _shown(value: Any) -> str:
    """Report text never says `None`: an absent value is named as such."""
    if value is None:
        return "(nothing)"
    return re.sub(r"\bNone\b", "(absent)", str(value))


def _failing_request(failure: RuleFailure) -> str:
    """The request that showed the failure, as sent: method, path, query and body."""
    sent = [ex for ex in failure.exchanges if ex.step != "upstream control"]
    if not sent:
        return ""
    ex = sent[-1]
    if ex.raw is not None:
        body = ex.raw[:200].decode("utf-8", "replace") + ("…" if len(ex.raw) > 200 else "")
    elif ex.body is not None:
        body = json.dumps(ex.body, ensure_ascii=False, default=repr)[:600]
    else:
        body = "(no body)"
    return f"{ex.method} {ex.url}  body: {body}"
