"""One rule per declared cross-field constraint: scene counts and seconds, shot sums, image budgets, ...

The spec declares each constraint once (`klingsim.core.evaluate.constraints`: its id, error and citation);
here each kind of constraint gets the request bodies that show it — valid ones at the limit, invalid ones
just past it — and `evaluate()` says which constraint an invalid body breaks and which error it earns, so the
kit never guesses. Limits that are provider Settings are read from the spec, so a configured simulator and
the kit agree. Required/forbidden-when rules declared as `Variant.rules` are judged by `params.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from klingsim.core.evaluate import ConstraintInfo, constraints
from klingsim.spec import ProviderSpec, Variant
from klingsim.spec.constraints import FromSetting
from klingsim_contracts import strategies as gen
from klingsim_contracts.properties import run_cases
from klingsim_contracts.rules.base import Layer, NotExercised, Rule
from klingsim_contracts.session import Session
from klingsim_contracts.strategies import Case

Body = dict[str, Any]
Cases = Callable[[ProviderSpec, Variant | None], list[Case]]


def _setting(spec: ProviderSpec, name: str) -> Any:
    return spec.setting_values()[name]


def _base(spec: ProviderSpec, variant: Variant | None, **fields: Any) -> Body:
    if variant is None:  # a check on the body before the variant is chosen: any variant's body
        variant = gen.variants(spec)[0]
    return gen.valid_body(spec, variant, fields)


def _ok(body: Body, note: str) -> Case:
    return Case(body, True, "", note)


def _bad(body: Body, note: str) -> Case:
    """An invalid body; its error is the one `evaluate()` gives it (filled in by `cases_for`)."""
    return Case(body, False, "", note)


def _drop(body: Body, *names: str) -> Body:
    return {k: v for k, v in body.items() if k not in names}


# ----------------------------------------------------------------------------- EmpirioLabs (seeds 000, 004)
def _scenes(n: int, sep: str = "|") -> str:
    return sep.join(f"scene {i + 1}" for i in range(n))


def _prefixed(*seconds: float) -> str:
    return "|".join(f"{s:g}s: scene {i + 1}" for i, s in enumerate(seconds))


def _scenes_at_least_one(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)
    return [_ok({**base, "prompt": "one scene"}, "one scene"), _bad({**base, "prompt": " | "}, "no scene")]


def _scenes_at_most(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    most = int(_setting(spec, "max_scenes"))
    base = _base(spec, variant, duration=int(_setting(spec, "max_total_seconds")))
    return [
        _ok({**base, "prompt": _scenes(most)}, f"{most} pipe-separated scenes"),
        _bad({**base, "prompt": _scenes(most + 1)}, f"{most + 1} pipe-separated scenes"),
        _bad({**base, "prompt": _scenes(most + 1, "\n")}, f"{most + 1} newline-separated scenes"),
    ]


def _scene_seconds(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    shortest = float(_setting(spec, "min_scene_seconds"))
    base = _base(spec, variant)
    return [
        _ok({**base, "prompt": _prefixed(shortest, 3)}, f"a scene of {shortest:g} s"),
        _bad({**base, "prompt": _prefixed(shortest / 2, 3)}, f"a scene of {shortest / 2:g} s"),
    ]


def _scenes_total(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    longest = int(_setting(spec, "max_total_seconds"))
    first = longest // 2
    base = _base(spec, variant)
    return [
        _ok({**base, "prompt": _prefixed(first, longest - first)}, f"scenes of {longest} s in total"),
        _bad({**base, "prompt": _prefixed(first, longest - first + 1)}, f"scenes of {longest + 1} s"),
    ]


def _scenes_priced(spec: ProviderSpec, variant: Variant | None) -> list[Body]:
    base = _base(spec, variant)
    return [{**base, "prompt": _prefixed(4, 3)}, {**base, "prompt": _prefixed(6, 2, 3)}]


def _image_end_needs_image(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    image, end = "https://example.com/klingsim/first.png", "https://example.com/klingsim/last.png"
    base = _base(spec, variant, workflow="i2v", image=image)
    return [
        _ok({**base, "image_end": end}, "image and image_end"),
        _bad({**_drop(base, "image"), "workflow": "t2v", "image_end": end}, "image_end without image"),
    ]


def _url_list(n: int, ext: str) -> str:
    return ",".join(f"https://example.com/klingsim/ref{i + 1}.{ext}" for i in range(n))


def _reference_base(spec: ProviderSpec, variant: Variant | None) -> Body:
    return _drop(_base(spec, variant, workflow="reference"), "reference_images", "reference_videos")


def _reference_count(name: str, ext: str, limit: str) -> Cases:
    def cases(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
        most, base = int(_setting(spec, limit)), _reference_base(spec, variant)
        return [
            _ok({**base, name: _url_list(most, ext)}, f"{most} comma-separated URLs"),
            _bad({**base, name: _url_list(most + 1, ext)}, f"{most + 1} comma-separated URLs"),
        ]

    return cases


def _reference_no_empty(name: str, ext: str) -> Cases:
    def cases(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
        base = _reference_base(spec, variant)
        return [
            _ok({**base, name: _url_list(1, ext)}, "one URL"),
            _bad({**base, name: _url_list(1, ext) + ","}, "an empty item after a comma"),
        ]

    return cases


# ----------------------------------------------------------------------------- EvoLink (seed 001)
def _shots(*seconds: int | str) -> list[Body]:
    return [{"index": i + 1, "prompt": f"shot {i + 1}", "duration": str(s)} for i, s in enumerate(seconds)]


def _multi(shot_type: str | None = "customize", shots: list[Body] | None = None) -> Body:
    params: Body = {"multi_shot": True}
    if shot_type is not None:
        params["shot_type"] = shot_type
    if shots is not None:
        params["multi_prompt"] = shots
    return params


def _multi_base(spec: ProviderSpec, variant: Variant | None) -> Body:
    """A body of `variant` lasting 5 s where it has a duration (video edit follows its source)."""
    has_duration = variant is not None and variant.param("duration") is not None
    return _base(spec, variant, duration=5) if has_duration else _base(spec, variant)


def _shots_sum(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _multi_base(spec, variant)
    return [
        _ok({**base, "model_params": _multi(shots=_shots(2, 3))}, "shots of 2 + 3 s for duration 5"),
        _bad({**base, "duration": 6, "model_params": _multi(shots=_shots(2, 3))}, "2 + 3 s for duration 6"),
        _bad({**base, "model_params": _multi(shots=_shots(2, 2))}, "shots of 2 + 2 s for duration 5"),
    ]


def _shot_duration(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _multi_base(spec, variant)
    return [
        _ok({**base, "model_params": _multi(shots=_shots(1, 4))}, 'shot durations "1" and "4"'),
        _bad({**base, "model_params": _multi(shots=_shots(0, 5))}, 'a shot of "0" s'),
        _bad({**base, "model_params": _multi(shots=_shots("2.5", "2.5"))}, 'a shot of "2.5" s'),
    ]


def _prompt_unless_multi_shot(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _multi_base(spec, variant)
    return [
        _ok({**_drop(base, "prompt"), "model_params": _multi(shots=_shots(5))}, "multi-shot, no prompt"),
        _bad(_drop(base, "prompt"), "no prompt and no multi-shot"),
        _bad({**base, "prompt": "   "}, "a blank prompt and no multi-shot"),
    ]


def _shot_type_with_multi_shot(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _multi_base(spec, variant)
    return [_bad({**base, "model_params": _multi(None, _shots(5))}, "multi_shot without shot_type")]


def _shots_with_multi_shot(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _multi_base(spec, variant)
    return [_bad({**base, "model_params": _multi()}, "multi_shot without multi_prompt")]


def _images_elements(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)

    def body(images: int, elements: int) -> Body:
        urls = [f"https://example.com/klingsim/ref{i + 1}.png" for i in range(images)]
        ids = [{"element_id": 1000 + i} for i in range(elements)]
        return {**base, "image_urls": urls, "model_params": {"element_list": ids}}

    return [
        _ok(body(2, 2), "2 images + 2 elements with a video"),
        _bad(body(3, 2), "3 images + 2 elements with a video"),
        _bad(body(0, 5), "5 elements with a video"),
    ]


_FIRST, _LAST = "https://example.com/klingsim/first.png", "https://example.com/klingsim/last.png"
_REF = "https://example.com/klingsim/ref.png"


def _image_end_needs_start(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant, image_start=_FIRST)
    return [
        _ok({**base, "image_end": _LAST}, "image_start and image_end"),
        _bad({**_drop(base, "image_start"), "image_end": _LAST}, "image_end without image_start"),
    ]


def _image_end_total(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant, image_start=_FIRST)
    return [_bad({**base, "image_end": _LAST, "image_urls": [_REF]}, "image_end with a third image")]


def _prompt_references(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)
    prompt = str(base.get("prompt") or "A scene")
    one = {"element_list": [{"element_id": 1001}]}
    return [
        _ok({**base, "prompt": prompt + " with <<<element_1>>>", "model_params": one}, "<<<element_1>>>"),
        _bad(
            {**base, "prompt": prompt + " with <<<element_2>>>", "model_params": one},
            "<<<element_2>>> with one element",
        ),
    ]


# ----------------------------------------------------------------------------- Prospolabs (seed 002)
def _shot_list(*seconds: int) -> list[Body]:
    return [{"prompt": f"shot {i + 1}", "duration": s} for i, s in enumerate(seconds)]


def _shots_total(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)
    duration = variant.param("duration") if variant is not None else None
    assert duration is not None and duration.minimum is not None and duration.maximum is not None
    low, high = int(duration.minimum), int(duration.maximum)
    return [
        _ok({**base, "multi_prompt": _shot_list(high - 5, 5)}, f"shots of {high} s in total"),
        _bad({**base, "multi_prompt": _shot_list(high - 4, 5)}, f"shots of {high + 1} s in total"),
        _ok({**base, "multi_prompt": _shot_list(low)}, f"one shot of {low} s"),
        _bad({**base, "multi_prompt": _shot_list(low - 1)}, f"one shot of {low - 1} s"),
    ]


def _shots_priced(spec: ProviderSpec, variant: Variant | None) -> list[Body]:
    return [{**_base(spec, variant), "duration": 5, "multi_prompt": _shot_list(4, 3)}]


def _multi_prompt_json(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)
    return [
        _ok({**base, "multi_prompt": json.dumps(_shot_list(3, 3))}, "a JSON string of two shots"),
        _bad({**base, "multi_prompt": "shot one, then shot two"}, "free text"),
        _bad({**base, "multi_prompt": json.dumps({"prompt": "x", "duration": 3})}, "a JSON object"),
    ]


def _params_object(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = _base(spec, variant)
    top: Body = {k: base[k] for k in ("model", "mode") if k in base}
    inner = _drop(base, *top)
    return [
        _ok({**top, "params": inner}, "the model's fields in a params object"),
        _bad({**base, "params": "duration=5"}, "params that is not an object"),
    ]


# ----------------------------------------------------------------------------- official Kling (upstream 1.3)
def _can(variant: Variant | None, name: str, value: Any) -> bool:
    """Whether the variant documents `value` for `name` (Kling's per-model enums: sound, multi_shot)."""
    param = variant.param(name) if variant is not None else None
    return param is not None and (param.enum is None or value in param.enum)


def _kling_shots_sum(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    if not _can(variant, "multi_shot", True):
        return []  # this model can't cut shots: the constraint is shown on the models that can
    base = {**_base(spec, variant, duration="5"), "multi_shot": True, "shot_type": "customize"}
    return [
        _ok({**base, "multi_prompt": _shots(2, 3)}, 'shots of "2" + "3" s for duration "5"'),
        _bad({**base, "multi_prompt": _shots(2, 2)}, 'shots of "2" + "2" s for duration "5"'),
    ]


def _video_list() -> list[Body]:
    return [{"video_url": "https://example.com/klingsim/input.mp4", "refer_type": "feature"}]


def _images(n: int) -> list[Body]:
    return [{"image_url": f"https://example.com/klingsim/ref{i + 1}.png"} for i in range(n)]


def _kling_omni_images(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    base = {**_base(spec, variant), "video_list": _video_list()}
    return [
        _ok({**base, "image_list": _images(4)}, "4 images with a video"),
        _bad({**base, "image_list": _images(5)}, "5 images with a video"),
    ]


def _kling_omni_sound(spec: ProviderSpec, variant: Variant | None) -> list[Case]:
    if not _can(variant, "sound", "on"):
        return []  # this model has no sound to turn on
    base = {**_base(spec, variant), "video_list": _video_list()}
    return [
        _ok({**base, "sound": "off"}, "sound off with a video"),
        _bad({**base, "sound": "on"}, "sound on with a video"),
    ]


# ----------------------------------------------------------------------------- cases by constraint id
CASES: dict[str, Cases] = {
    "empiriolabs.scenes-at-least-one": _scenes_at_least_one,
    "empiriolabs.scenes-at-most": _scenes_at_most,
    "empiriolabs.scene-seconds": _scene_seconds,
    "empiriolabs.scenes-total": _scenes_total,
    "empiriolabs.image-end-needs-image": _image_end_needs_image,
    "empiriolabs.reference_images-count": _reference_count("reference_images", "png", "max_reference_images"),
    "empiriolabs.reference_videos-count": _reference_count("reference_videos", "mp4", "max_reference_videos"),
    "empiriolabs.reference_images-no-empty-item": _reference_no_empty("reference_images", "png"),
    "empiriolabs.reference_videos-no-empty-item": _reference_no_empty("reference_videos", "mp4"),
    "evolink.prompt-unless-multi-shot": _prompt_unless_multi_shot,
    "evolink.shot-type-with-multi-shot": _shot_type_with_multi_shot,
    "evolink.shots-with-multi-shot": _shots_with_multi_shot,
    "evolink.shot-duration": _shot_duration,
    "evolink.shots-sum": _shots_sum,
    "evolink.images-elements": _images_elements,
    "evolink.image-end-needs-start": _image_end_needs_start,
    "evolink.image-end-total": _image_end_total,
    "evolink.prompt-references": _prompt_references,
    "prospolabs.shots-total": _shots_total,
    "prospolabs.multi-prompt-json": _multi_prompt_json,
    "prospolabs.params-object": _params_object,
    "kling.shots-sum": _kling_shots_sum,
    "kling.omni-images-with-video": _kling_omni_images,
    "kling.omni-sound-off-with-video": _kling_omni_sound,
}

# Constraints whose price depends on them (billed seconds from scenes or shots).
PRICED: dict[str, Callable[[ProviderSpec, Variant | None], list[Body]]] = {
    "empiriolabs.scenes-total": _scenes_priced,
    "prospolabs.shots-total": _shots_priced,
}

# Constraints no request through a gateway can show, and why.
UNREACHABLE: dict[str, str] = {
    "evolink.reference-video-length": (
        "the length of a reference video is judged only for inputs the upstream can probe (its own outputs)"
    ),
    "kling.omni-reference-video-length": (
        "the length of a reference video is judged only for inputs the upstream can probe (its own outputs)"
    ),
    "fal.edit-source-length": (
        "the length of a source video is judged only for inputs the upstream can probe (its own outputs)"
    ),
}


def declared(spec: ProviderSpec) -> list[ConstraintInfo]:
    """The constraints this family judges: every declared one except the `Variant.rules` params.py judges."""
    out = []
    for info in constraints(spec):
        if info.operation != gen.create_endpoint(spec).op_id:
            continue  # another create's (Kling's views each judge their own)
        variant = _variant(spec, info)
        if variant is not None and info.constraint in variant.rules:
            continue
        out.append(info)
    return out


def _variant(spec: ProviderSpec, info: ConstraintInfo) -> Variant | None:
    return next((v for v in gen.variants(spec) if v.name == info.variant), None) if info.variant else None


def rule_id_of(spec: ProviderSpec, info: ConstraintInfo) -> str:
    """`EVOLINK-KLING-O3-TEXT-TO-VIDEO-SHOTS-SUM` for `evolink.shots-sum` on that model."""
    return gen.rule_id(spec, _variant(spec, info), (), info.id.removeprefix(f"{spec.id}."))


def cases_for(spec: ProviderSpec, info: ConstraintInfo) -> list[Case]:
    """The constraint's bodies, each invalid one with the error `evaluate()` answers it with."""
    build = CASES.get(info.id)
    if build is None:
        return []
    out = []
    for case in build(spec, _variant(spec, info)):
        error = "" if case.valid else gen.evaluation(spec, case.body).error
        assert case.valid or error, f"{info.id}: {case.note} is accepted by the provider"
        out.append(Case(case.body, case.valid, error or "", case.note))
    return out


def _check(spec: ProviderSpec, info: ConstraintInfo, rule_id: str, session: Session) -> None:
    from klingsim_contracts.rules.money import check_price, shows_prices

    cases = cases_for(spec, info)
    if not cases:
        raise NotExercised(UNREACHABLE.get(info.id, f"the kit knows no request that shows {info.id}"))
    run_cases(session, rule_id, cases)
    priced = PRICED.get(info.id)
    if priced is not None and shows_prices(session):
        for body in priced(spec, _variant(spec, info)):
            session.trail.clear()
            check_price(spec, rule_id, session, body)


def _title(spec: ProviderSpec, info: ConstraintInfo) -> str:
    """The constraint's message with its limits filled in and per-request values shown as N."""
    constraint = info.constraint
    settings = spec.setting_values()
    limits: dict[str, Any] = {}
    for name in ("minimum", "maximum"):
        value = getattr(constraint, name, None)
        limits[name] = settings.get(value.name) if isinstance(value, FromSetting) else value
    limits["limit"] = limits["maximum"] if limits["maximum"] is not None else limits["minimum"]
    message = str(getattr(constraint, "message", "") or info.id)
    for name, value in limits.items():
        message = re.sub(r"\{" + name + r"(:[^}]*)?\}", str(value), message)
    return re.sub(r"\{[^}]*\}", "N", message)


def crossfield_rules(spec: ProviderSpec) -> Iterator[Rule]:
    for info in declared(spec):
        if info.id in CASES and not cases_for(spec, info):
            continue  # a model whose own field rules keep the constraint from applying (Kling's sound)
        rule_id = rule_id_of(spec, info)
        yield Rule(
            rule_id,
            spec.id,
            f"{_title(spec, info)} ({info.kind} {info.id}, refused with {info.error})",
            info.doc,
            Layer.PROPERTY,
            partial(_check, spec, info, rule_id),
            covers=frozenset({info.id}),
        )
