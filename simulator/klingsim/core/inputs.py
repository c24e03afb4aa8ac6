"""Inspect media inputs without fetching anything outside the simulator.

An image sent as base64 must decode to a real image. A video URL that is itself a klingsim output (same
signed `/_klingsim/files/...` path, on any host) is rendered from the cache and probed, so providers can trim,
bill and range-check it by its real duration. Any other URL is taken on trust and never fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from klingsim.core import media
from klingsim.core.signing import OutputRef
from klingsim.spec import ErrorRole, Param, Variant, Violation

if TYPE_CHECKING:
    from klingsim.core.simulator import Runtime, Simulator

VIDEO_FORMATS = ("video-url", "video-urls")


def _urls(value: Any) -> list[str]:
    """One URL, a list of URLs, or a comma-separated string of them (EmpirioLabs' reference fields)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _base64_image(rt: Runtime, param: Param, value: Any) -> None:
    if not isinstance(value, str) or value.startswith(("http://", "https://")):
        return
    try:
        media.decode_base64_image(value)
    except media.MediaError as exc:
        code = param.error or rt.spec.roles[ErrorRole.VALIDATION]
        raise Violation(code, f"{param.name}: {exc}", param=param.name) from None


def output_seconds(sim: Simulator, url: str) -> float | None:
    """The probed duration of a klingsim output named by `url`, or None when it isn't one."""
    parts = urlsplit(url)
    found = sim.output_path(parts.path)
    if found is None:
        return None
    provider, job_id, index = found
    query = dict(parse_qsl(parts.query))
    expires = query.get("expires", "")
    ref = OutputRef(provider, job_id, index, int(expires) if expires.isdigit() else -1)
    if not sim.signer.verify(ref, query.get("signature", "")) or sim.clock.now() > ref.expires:
        raise ValueError("the klingsim output URL is forged or has expired")
    job = sim.engine.get(provider, job_id)
    if job is None or index >= job.plan.output.count:
        raise ValueError("the klingsim output URL names no file")
    return media.probe(sim.media_file(job).data).duration


def inspect(sim: Simulator, rt: Runtime, variant: Variant, request: dict[str, Any]) -> dict[str, float]:
    """Check base64 images; return the longest probed duration of each video field of klingsim outputs."""
    seconds: dict[str, float] = {}
    for param in variant.params:
        if param.name not in request:
            continue
        value = request[param.name]
        if param.format == "image-url-or-raw-base64" and isinstance(value, str) and value.startswith("data:"):
            # Kling: "raw Base64 without the data: prefix".
            code = param.error or rt.spec.roles[ErrorRole.VALIDATION]
            raise Violation(code, f"{param.name}: send raw Base64, without a data: prefix", param=param.name)
        if param.format in ("image-url-or-base64", "image-url-or-raw-base64"):
            _base64_image(rt, param, value)
        elif param.format in VIDEO_FORMATS:
            probed: list[float] = []
            for url in _urls(value):
                try:
                    duration = output_seconds(sim, url)
                except ValueError as exc:
                    code = param.error or rt.spec.roles[ErrorRole.VALIDATION]
                    raise Violation(code, f"{param.name}: {exc}", param=param.name) from None
                if duration is not None:
                    probed.append(duration)
            if probed:
                seconds[param.name] = max(probed)
    return seconds
