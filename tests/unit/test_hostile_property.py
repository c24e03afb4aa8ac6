"""Property: hostile values (lone surrogates, NaN and infinities, numbers far out of range, odd digits,
deep nesting, huge strings) sent to every provider endpoint, to output downloads and to the control plane
never get a 5xx, and never leave state behind that answers 5xx later (journal, timelines, statuses,
accounts, callbacks, a valid create afterwards)."""

from __future__ import annotations

import json
import math
import os
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klingsim.core import edge
from klingsim.providers import ALL
from klingsim.spec import Action, ProviderSpec
from tests.support import SimClient, bearer
from tests.unit.provider_cases import BODIES, create, status

SPECS = {spec.id: spec for spec in ALL}

SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), SURROGATES, st.text(max_size=5)),
    st.sampled_from(["²", "٣", "9" * 5000, "1" * 13, "-1", "1e3", "", "\x00", "a" * 70_000]),
)
NUMBERS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 3e11, 1e-320, 0.0, -0.0]),
    st.sampled_from([10**4000, -(10**4000), 2**63, -(2**63), 0, -1, 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
)
SHORT_TEXT = TEXT.filter(lambda t: len(t) < 6000)  # URLs: httpx itself refuses longer ones
SCALARS = st.one_of(TEXT, NUMBERS, st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8) | SURROGATES, inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def deep(draw: st.DrawFn) -> str:
    depth = draw(st.integers(20, 2000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return opener * depth + "1" + closer * depth


def encode(value: Any) -> bytes:
    """JSON as a sloppy client writes it: NaN and Infinity literals, surrogates as \\u escapes."""
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def bodies(draw: st.DrawFn, spec: ProviderSpec) -> bytes:
    kind = draw(st.sampled_from(["field", "unknown", "value", "deep", "raw"]))
    valid = dict(BODIES[spec.id])
    if kind == "field":
        field = draw(
            st.sampled_from(sorted({*valid, "prompt", "duration", "callback_url", "image", "video"}))
        )
        return encode({**valid, field: draw(VALUES)})
    if kind == "unknown":
        return encode({**valid, draw(TEXT): draw(VALUES)})
    if kind == "value":
        return encode(draw(VALUES))
    if kind == "deep":
        return ('{"prompt": "x", "extra": ' + draw(deep()) + "}").encode()
    return draw(st.binary(max_size=64))


def path_part(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def provider_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    spec = SPECS[draw(st.sampled_from(sorted(SPECS)))]
    endpoint = draw(st.sampled_from(spec.endpoints))
    key = draw(st.sampled_from([spec.auth.example_key, None, "x" * 300]))
    headers = bearer(key) if key else {}
    path = f"/{spec.id}{endpoint.path}"
    query: dict[str, str] = {}
    if endpoint.id_param:
        job_id = draw(SHORT_TEXT)
        if endpoint.id_in == "path":
            path = path.replace("{" + endpoint.id_param + "}", path_part(job_id) or "x")
        else:
            query[endpoint.id_param] = job_id
    options: dict[str, Any] = {"headers": {**headers, "content-type": "application/json"}}
    if query:
        path += "?" + "&".join(f"{k}={path_part(v)}" for k, v in query.items())
    if endpoint.action is Action.CREATE:
        options["content"] = draw(bodies(spec))
    return endpoint.method, path, options


@st.composite
def control_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    provider = draw(st.sampled_from(sorted(SPECS)))
    which = draw(st.sampled_from(["advance", "balance", "fault", "outcome", "journal", "download"]))
    if which == "advance":
        return "POST", "/_klingsim/clock/advance", {"content": encode({"seconds": draw(NUMBERS)})}
    if which == "balance":
        key = path_part(draw(SHORT_TEXT.filter(lambda t: 0 < len(t) < 200)))
        body = {"balance": draw(NUMBERS | TEXT), "account": draw(TEXT | st.none())}
        return "PUT", f"/_klingsim/accounts/{provider}/{key}", {"content": encode(body)}
    if which == "fault":
        body = {
            "provider": provider,
            "error": draw(st.sampled_from([e.code for e in SPECS[provider].errors]) | TEXT),
            "message": draw(TEXT),
            "latency_ms": draw(st.none() | NUMBERS | st.lists(NUMBERS, max_size=3)),
            "count": draw(st.none() | NUMBERS),
        }
        return "POST", "/_klingsim/faults", {"content": encode(body)}
    if which == "outcome":
        words = st.sampled_from(["failed", "succeeded", "stuck"]) | TEXT
        body = {"status": draw(words), "message": draw(TEXT)}
        return "POST", f"/_klingsim/jobs/{provider}/{{job}}/outcome", {"content": encode(body)}
    if which == "journal":
        query = f"since={path_part(draw(SHORT_TEXT))}&provider={path_part(draw(SHORT_TEXT))}"
        return "GET", f"/_klingsim/requests?{query}", {}
    expires, signature = draw(SHORT_TEXT), draw(SHORT_TEXT)
    index = draw(st.sampled_from(["0", "٣", "9" * 5000]))
    path = f"/_klingsim/files/{provider}/{{job}}/{path_part(index)}.mp4"
    return "GET", f"{path}?expires={path_part(expires)}&signature={path_part(signature)}", {}


def sweep(client: SimClient) -> None:
    """Everything that shows stored state still answers, and every provider still takes a valid create."""
    for url in ("/_klingsim/requests", "/_klingsim/callbacks", "/_klingsim/faults", "/_klingsim/clock"):
        assert client.get(url).status_code < 500, url
    for job in client.sim.engine.jobs():
        assert client.get(f"/_klingsim/jobs/{job.provider}/{job.id}").status_code < 500
        spec = SPECS[job.provider]
        keys = client.sim.keys.keys(job.provider)
        owner = next(k for k in keys if client.sim.keys.account_of(job.provider, k) == job.account)
        assert status(client, spec, owner, job.id).status_code < 500
    for provider in client.sim.runtimes:
        for key in client.sim.keys.keys(provider)[:20]:
            assert client.get(f"/_klingsim/accounts/{provider}/{path_part(key)}").status_code < 500
    client.post("/_klingsim/faults", content=b"")  # a no-op keeps the control plane in the loop
    client.request("DELETE", "/_klingsim/faults")
    for spec in SPECS.values():
        answer, _ = create(client, spec, spec.auth.example_key)
        assert answer.status_code < 500, answer.text


@settings(
    max_examples=int(os.environ.get("KLINGSIM_HOSTILE_EXAMPLES", "30")),  # `make fuzz`: more
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.one_of(provider_requests(), control_requests()), min_size=1, max_size=5))
def test_hostile_values_never_get_a_5xx_nor_leave_state_that_5xxs_later(
    steps: list[tuple[str, str, dict[str, Any]]],
) -> None:
    client = SimClient()
    _, job_id = create(client, SPECS["kling3api"], SPECS["kling3api"].auth.example_key)
    for method, path, options in steps:
        answer = client.request(method, path.replace("{job}", job_id), **options)
        assert answer.status_code < 500, (method, path, answer.text[:300])
    client.post("/_klingsim/clock/advance", json={"seconds": 3600})
    sweep(client)


@given(VALUES)
@settings(max_examples=300, deadline=None)
def test_the_byte_level_edge_check_agrees_with_walking_the_value(value: Any) -> None:
    """edge.parse_json judges UTF-8 JSON on its bytes; walking the parsed value must agree."""
    raw = encode(value)
    try:
        parsed = edge.parse_json(raw)
    except edge.EdgeError:
        walked_ok = False
        try:
            edge.check_value(json.loads(raw))
            walked_ok = True
        except (edge.EdgeError, ValueError):
            pass
        assert not walked_ok or any(n in raw for n in (b"NaN", b"Infinity"))
    else:
        edge.check_value(parsed)  # accepted: nothing in it can break an answer
        json.dumps(parsed, allow_nan=False).encode("utf-8")
