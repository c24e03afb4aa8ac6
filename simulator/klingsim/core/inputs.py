"""Inspect media inputs without fetching anything outside the simulator.

An image sent as base64 must decode to a real image. A video URL that is itself a klingsim output (same
signed `/_klingsim/files/...` path, on any host) is rendered from the cache and probed, so providers can trim,
bill and range-check it by its real duration. Any other URL is taken on trust and never fetched. Video URLs
inside a list's items (Kling's `video_list[].video_url`) are probed one by one, each under its own key
(`video_list[0].video_url`), which a `ProbedRange` on `video_list[].video_url` checks.

Rendering a 4K input or decoding a large image takes seconds, so it must not happen on the server's event
loop: `prepare` (cheap, side-effect free) names the work a create request's inputs need, the server runs it
in a worker thread, and `inspect` then finds every verdict in the media caches. A list longer than its
limit (the param's `max_items`, or the provider's `max_<field>` setting) is neither prepared nor probed:
the provider refuses it, so nothing is rendered for it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from klingsim.core import edge
from klingsim.core.http import MAX_BODY_BYTES, Request
from klingsim.core.signing import OutputRef
from klingsim.spec import Action, ErrorRole, Param, ParamType, Variant, Violation

if TYPE_CHECKING:
    from klingsim.core import media
    from klingsim.core.jobs import Job
    from klingsim.core.simulator import Runtime, Simulator

VIDEO_FORMATS = ("video-url", "video-urls")
# Image fields that may carry base64 data (Kling: raw base64 only, without a data: prefix).
IMAGE_FORMATS = ("image-url-or-base64", "image-url-or-raw-base64")
MAX_PREPARED = 8  # pieces of work prepared for one request; more inputs than this are refused anyway
_SMALL_BODY = 2048  # below this, and without a klingsim file URL, no input needs work


def _urls(value: Any) -> list[str]:
    """One URL, a list of URLs, or a comma-separated string of them (EmpirioLabs' reference fields)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def list_limit(rt: Runtime, param: Param) -> int | None:
    """How many URLs a list field takes: its `max_items`, or the provider's `max_<field>` setting."""
    if param.max_items is not None:
        return param.max_items
    setting = rt.settings.get(f"max_{param.name}")
    return int(setting) if isinstance(setting, int | float) and not isinstance(setting, bool) else None


def _video_urls(rt: Runtime, param: Param, value: Any) -> list[str]:
    urls = _urls(value)
    limit = list_limit(rt, param) if param.format == "video-urls" else None
    return [] if limit is not None and len(urls) > limit else urls


def _item_video_fields(param: Param) -> list[Param]:
    """The video-URL fields of a list's object items (`video_list[].video_url`), none for other params."""
    items = param.items
    if param.type is not ParamType.ARRAY or items is None:
        return []
    return [p for p in items.properties if p.format == "video-url"]


def _item_videos(rt: Runtime, param: Param, value: Any) -> Iterator[tuple[str, Param, str]]:
    """(probed key, item field, URL) of each video URL in a list's items; none when the list is longer than
    its limit (the provider refuses it)."""
    fields = _item_video_fields(param)
    if not fields or not isinstance(value, list):
        return
    limit = list_limit(rt, param)
    if limit is not None and len(value) > limit:
        return
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            continue
        for field in fields:
            url = item.get(field.name)
            if isinstance(url, str):
                yield f"{param.name}[{index}].{field.name}", field, url


def _is_base64(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith(("http://", "https://"))


def _base64_image(sim: Simulator, rt: Runtime, param: Param, value: Any) -> None:
    if not _is_base64(value):
        return
    from klingsim.core.media import MediaError  # loaded with the first media input

    try:
        sim.media.check_image(value)
    except MediaError as exc:
        code = param.error or rt.spec.roles[ErrorRole.VALIDATION]
        raise Violation(code, f"{param.name}: {exc}", param=param.name) from None


def _output_job(sim: Simulator, url: str) -> Job | None:
    """The job whose output `url` names, None when it isn't a klingsim output; ValueError when forged."""
    parts = urlsplit(url)
    found = sim.output_path(parts.path)
    if found is None:
        return None
    provider, job_id, index = found
    query = dict(parse_qsl(parts.query))
    expires = edge.parse_expires(query.get("expires", ""))
    ref = OutputRef(provider, job_id, index, -1 if expires is None else expires)
    if not sim.signer.verify(ref, query.get("signature", "")) or sim.clock.now() > ref.expires:
        raise ValueError("the klingsim output URL is forged or has expired")
    job = sim.engine.get(provider, job_id)
    if job is None or index >= job.plan.output.count:
        raise ValueError("the klingsim output URL names no file")
    return job


def _spec_of(job: Job) -> media.MediaSpec:
    from klingsim.core.media import output_spec

    out = job.plan.output
    return output_spec(out.aspect_ratio, out.lines, out.seconds, out.audio)


def output_seconds(sim: Simulator, url: str) -> float | None:
    """The probed duration of a klingsim output named by `url`, or None when it isn't one."""
    job = _output_job(sim, url)
    return None if job is None else sim.media.probe(_spec_of(job)).duration


def _media_params(rt: Runtime, variants: tuple[Variant, ...]) -> Iterator[Param]:
    seen: set[str] = set()
    for variant in variants:
        for param in variant.params:
            media = param.format in VIDEO_FORMATS or param.format in IMAGE_FORMATS
            if param.name not in seen and (media or _item_video_fields(param)):
                seen.add(param.name)
                yield param


def prepare(sim: Simulator, provider: str, req: Request) -> list[Callable[[], object]]:
    """The slow work (renders, probes, image decodes) a create request's inputs need that isn't cached.

    Cheap and without side effects; the request itself is judged later by the simulator, which finds
    whatever this did in the caches (and does the rest itself, on whatever thread calls it)."""
    rt = sim.runtimes.get(provider)
    if rt is None or req.method != "POST" or not req.body or len(req.body) > MAX_BODY_BYTES:
        return []
    if len(req.body) < _SMALL_BODY and b"/_klingsim/files/" not in req.body:
        return []
    match = rt.router.match(req.method, req.path)
    endpoint = match.endpoint if match is not None else None
    if endpoint is None or endpoint.action is not Action.CREATE or endpoint.body is None:
        return []
    params = list(_media_params(rt, endpoint.body.variants))
    if not any(f'"{param.name}"'.encode() in req.body for param in params):
        return []  # no media field: nothing to parse for
    try:
        body = edge.parse_json(req.body)
    except edge.EdgeError:
        return []
    if not isinstance(body, dict):
        return []
    work: dict[object, Callable[[], object]] = {}
    for param in params:
        value = body.get(param.name)
        if param.format in IMAGE_FORMATS:
            if isinstance(value, str) and _is_base64(value) and sim.media.image_checked(value) is None:
                work[("image", param.name)] = functools.partial(_quietly, sim.media.check_image, value)
            continue
        urls = [url for _, _, url in _item_videos(rt, param, value)] or _video_urls(rt, param, value)
        for url in urls:
            try:
                job = _output_job(sim, url)
            except ValueError:
                continue
            spec = _spec_of(job) if job is not None else None
            if spec is not None and sim.media.probed(spec) is None:
                work[spec] = functools.partial(_quietly, sim.media.probe, spec)
    return list(work.values())[:MAX_PREPARED]


def _quietly(check: Callable[[Any], object], value: Any) -> None:
    """Run a check for its cached verdict; a failure is cached too, or reported by `inspect` later."""
    from klingsim.core.media import MediaError

    with contextlib.suppress(MediaError, ValueError):
        check(value)


# Per variant object (kept beside its params, so a reused id() is never mistaken): its media params.
_MEDIA: dict[int, tuple[Variant, tuple[Param, ...]]] = {}


def _media_of(variant: Variant) -> tuple[Param, ...]:
    """The variant's params that name media (images, videos, lists of videos): the only ones `inspect` has
    work for."""
    cached = _MEDIA.get(id(variant))
    if cached is not None and cached[0] is variant:
        return cached[1]
    found = tuple(
        p
        for p in variant.params
        if p.format in IMAGE_FORMATS or p.format in VIDEO_FORMATS or _item_video_fields(p)
    )
    _MEDIA[id(variant)] = (variant, found)
    return found


def reads_media(variant: Variant, request: Mapping[str, Any]) -> bool:
    """True when `inspect` has work for this request: it names media (images, videos)."""
    return any(p.name in request for p in _media_of(variant))


def inspect(sim: Simulator, rt: Runtime, variant: Variant, request: dict[str, Any]) -> dict[str, float]:
    """Check base64 images; return the longest probed duration of each video field of klingsim outputs, and
    the duration of each video of a list's items (`video_list[0].video_url`)."""
    seconds: dict[str, float] = {}
    for param in _media_of(variant):
        if param.name not in request:
            continue
        value = request[param.name]
        if param.format == "image-url-or-raw-base64" and isinstance(value, str) and value.startswith("data:"):
            # Kling: "raw Base64 without the data: prefix".
            code = param.error or rt.spec.roles[ErrorRole.VALIDATION]
            raise Violation(code, f"{param.name}: send raw Base64, without a data: prefix", param=param.name)
        for key, field, url in _item_videos(rt, param, value):
            try:
                duration = output_seconds(sim, url)
            except ValueError as exc:
                code = field.error or param.error or rt.spec.roles[ErrorRole.VALIDATION]
                raise Violation(code, f"{key}: {exc}", param=key) from None
            if duration is not None:
                seconds[key] = duration
        if param.format in IMAGE_FORMATS:
            _base64_image(sim, rt, param, value)
        elif param.format in VIDEO_FORMATS:
            probed: list[float] = []
            for url in _video_urls(rt, param, value):
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
