"""Rules between fields that no single Param states: scene counts and seconds, shot sums, image budgets.

Each provider enforces these in its `plan`/`normalize` hooks, so the spec's Params can't derive them; here
each documented rule is written down once with its citation and the request bodies that show it (the valid
ones at the limit, the invalid ones just past it). Limits the provider exposes as Settings are read from the
spec, so a configured simulator and the kit agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from klingsim.spec import DocRef, ProviderSpec, Variant, public, seed
from klingsim_contracts import strategies as gen
from klingsim_contracts.properties import run_cases
from klingsim_contracts.rules.base import Layer, Rule
from klingsim_contracts.session import Session
from klingsim_contracts.strategies import Case

Body = dict[str, Any]
Cases = Callable[[ProviderSpec, Variant], list[Case]]


@dataclass(frozen=True)
class Crossing:
    """One documented rule between fields: where it applies, its citation, and the bodies that show it.

    `priced` bodies are valid ones whose price depends on the rule (billed seconds from scenes or shots);
    they are checked against the price table when the target shows prices or the kit can read balances.
    """

    path: tuple[str, ...]
    kind: str
    title: str
    doc: Callable[[ProviderSpec, Variant], DocRef]
    cases: Cases
    variants: tuple[str, ...] = ()
    priced: Callable[[ProviderSpec, Variant], list[Body]] | None = None


def _setting(spec: ProviderSpec, name: str) -> Any:
    return spec.setting_values()[name]


def _setting_doc(name: str) -> Callable[[ProviderSpec, Variant], DocRef]:
    return lambda spec, _: next(s.doc for s in spec.settings if s.name == name)


def _param_doc(name: str) -> Callable[[ProviderSpec, Variant], DocRef]:
    def doc(spec: ProviderSpec, variant: Variant) -> DocRef:
        param = variant.param(name)
        assert param is not None, f"{spec.id} {variant.name} has no {name}"
        return param.doc

    return doc


def _cited(ref: DocRef) -> Callable[[ProviderSpec, Variant], DocRef]:
    return lambda *_: ref


def _base(spec: ProviderSpec, variant: Variant, **fields: Any) -> Body:
    return gen.valid_body(spec, variant, fields)


def _ok(body: Body, note: str) -> Case:
    return Case(body, True, "", note)


def _bad(spec: ProviderSpec, body: Body, note: str) -> Case:
    error = gen.generic_error(spec)
    return Case(body, False, error, note)


# ----------------------------------------------------------------------------- EmpirioLabs (seeds 000, 004)
EMPIRIO_O3 = "000_5009db154bf32f7e.txt"
O3 = "kling-o3"


def _scenes(n: int, sep: str = "|") -> str:
    return sep.join(f"scene {i + 1}" for i in range(n))


def _scene_count_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    most = int(_setting(spec, "max_scenes"))
    longest = int(_setting(spec, "max_total_seconds"))
    base = _base(spec, variant, duration=longest)
    return [
        _ok({**base, "prompt": _scenes(most)}, f"{most} pipe-separated scenes"),
        _bad(spec, {**base, "prompt": _scenes(most + 1)}, f"{most + 1} pipe-separated scenes"),
        _bad(spec, {**base, "prompt": _scenes(most + 1, "\n")}, f"{most + 1} newline-separated scenes"),
    ]


def _prefixed(*seconds: float) -> str:
    return "|".join(f"{s:g}s: scene {i + 1}" for i, s in enumerate(seconds))


def _scene_seconds_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    longest = int(_setting(spec, "max_total_seconds"))
    shortest = float(_setting(spec, "min_scene_seconds"))
    base = _base(spec, variant)
    first = longest // 2
    return [
        _ok({**base, "prompt": _prefixed(first, longest - first)}, f"scenes of {longest} s in total"),
        _bad(spec, {**base, "prompt": _prefixed(first, longest - first + 1)}, f"scenes of {longest + 1} s"),
        _ok({**base, "prompt": _prefixed(shortest, 3)}, f"a scene of {shortest:g} s"),
        _bad(spec, {**base, "prompt": _prefixed(shortest / 2, 3)}, f"a scene of {shortest / 2:g} s"),
    ]


def _scene_priced(spec: ProviderSpec, variant: Variant) -> list[Body]:
    base = _base(spec, variant)
    return [{**base, "prompt": _prefixed(4, 3)}, {**base, "prompt": _prefixed(6, 2, 3)}]


def _image_end_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    image, end = "https://example.com/klingsim/first.png", "https://example.com/klingsim/last.png"
    base = _base(spec, variant, workflow="i2v", image=image)
    alone = {k: v for k, v in base.items() if k != "image"}
    return [
        _ok({**base, "image_end": end}, "image and image_end"),
        _bad(spec, {**alone, "workflow": "t2v", "image_end": end}, "image_end without image"),
    ]


def _url_list(n: int, ext: str) -> str:
    return ",".join(f"https://example.com/klingsim/ref{i + 1}.{ext}" for i in range(n))


def _reference_list_cases(name: str, ext: str, limit: str) -> Cases:
    def cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
        most = int(_setting(spec, limit))
        base = _base(spec, variant, workflow="reference")
        base.pop("reference_images", None)
        return [
            _ok({**base, name: _url_list(most, ext)}, f"{most} comma-separated URLs"),
            _bad(spec, {**base, name: _url_list(most + 1, ext)}, f"{most + 1} comma-separated URLs"),
            _bad(spec, {**base, name: _url_list(1, ext) + ","}, "an empty item after a comma"),
        ]

    return cases


EMPIRIOLABS = (
    Crossing(
        ("PROMPT",),
        "SCENES",
        "a prompt holds at most {max_scenes} scenes (pipe- or newline-separated)",
        _setting_doc("max_scenes"),
        _scene_count_cases,
        (O3,),
    ),
    Crossing(
        ("PROMPT",),
        "SCENE-SECONDS",
        "'Ns:' scene prefixes set each scene's seconds: every scene at least {min_scene_seconds} s, "
        "at most {max_total_seconds} s in total, billed by the total",
        _cited(
            seed(
                EMPIRIO_O3,
                "promptstring--Multi-scene: pipe (|) or newline-separated prompts, optionally prefixed with "
                "duration like '5s: scene text'. Up to 6 scenes.",
            )
        ),
        _scene_seconds_cases,
        (O3,),
        _scene_priced,
    ),
    Crossing(
        ("IMAGE-END",),
        "REQUIRES-IMAGE",
        "image_end (the last frame of an image-to-video job) needs image",
        _param_doc("image_end"),
        _image_end_cases,
        (O3,),
    ),
    Crossing(
        ("REFERENCE-IMAGES",),
        "LIST",
        "reference_images is a comma-separated list of at most {max_reference_images} URL(s), none empty",
        _setting_doc("max_reference_images"),
        _reference_list_cases("reference_images", "png", "max_reference_images"),
        (O3,),
    ),
    Crossing(
        ("REFERENCE-VIDEOS",),
        "LIST",
        "reference_videos is a comma-separated list of at most {max_reference_videos} URL(s), none empty",
        _setting_doc("max_reference_videos"),
        _reference_list_cases("reference_videos", "mp4", "max_reference_videos"),
        (O3,),
    ),
)


# ----------------------------------------------------------------------------- EvoLink (seed 001)
EVOLINK_SEED = "001_12a015e8ae57e13b.txt"
EVO_T2V, EVO_I2V = "kling-o3-text-to-video", "kling-o3-image-to-video"
EVO_REF, EVO_EDIT = "kling-o3-reference-to-video", "kling-o3-video-edit"


def _shots(*seconds: int) -> list[Body]:
    return [{"index": i + 1, "prompt": f"shot {i + 1}", "duration": str(s)} for i, s in enumerate(seconds)]


def _multi(shot_type: str | None = "customize", shots: list[Body] | None = None) -> Body:
    params: Body = {"multi_shot": True}
    if shot_type is not None:
        params["shot_type"] = shot_type
    if shots is not None:
        params["multi_prompt"] = shots
    return params


def _shot_sum_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant, duration=5)
    return [
        _ok({**base, "model_params": _multi(shots=_shots(2, 3))}, "shots of 2 + 3 s for duration 5"),
        _bad(spec, {**base, "duration": 6, "model_params": _multi(shots=_shots(2, 3))}, "2 + 3 s for 6"),
        _bad(spec, {**base, "model_params": _multi(shots=_shots(2, 2))}, "shots of 2 + 2 s for duration 5"),
    ]


def _multi_shot_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant, duration=5)
    no_prompt = {k: v for k, v in base.items() if k != "prompt"}
    return [
        _ok({**no_prompt, "model_params": _multi(shots=_shots(5))}, "multi-shot without a prompt"),
        _bad(spec, {**base, "model_params": _multi(None, _shots(5))}, "multi_shot without shot_type"),
        _bad(spec, {**base, "model_params": _multi()}, "multi_shot without multi_prompt"),
        _bad(spec, {**no_prompt, "model_params": {"multi_shot": False}}, "no prompt and no multi-shot"),
    ]


def _image_budget_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant)
    assert base.get("video_url"), f"{variant.name} base body has no video"

    def body(images: int, elements: int) -> Body:
        urls = [f"https://example.com/klingsim/ref{i + 1}.png" for i in range(images)]
        return {
            **base,
            "image_urls": urls,
            "model_params": {"element_list": [{"element_id": 1000 + i} for i in range(elements)]},
        }

    return [
        _ok(body(2, 2), "2 images + 2 elements with a video"),
        _ok(body(4, 0), "4 images with a video"),
        _bad(spec, body(3, 2), "3 images + 2 elements with a video"),
        _bad(spec, body(5, 0), "5 images with a video"),
    ]


def _image_end_evo_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    first, last = "https://example.com/klingsim/first.png", "https://example.com/klingsim/last.png"
    base = _base(spec, variant, image_start=first)
    alone = {k: v for k, v in base.items() if k != "image_start"}
    return [
        _ok({**base, "image_end": last}, "image_start and image_end"),
        _bad(
            spec,
            {**alone, "image_urls": ["https://example.com/klingsim/ref.png"], "image_end": last},
            "image_end without image_start",
        ),
        _bad(
            spec,
            {**base, "image_end": last, "image_urls": ["https://example.com/klingsim/ref.png"]},
            "image_end with a third image",
        ),
    ]


def _reference_token_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant)
    prompt = str(base.get("prompt") or "A scene")
    one = {"element_list": [{"element_id": 1001}]}
    return [
        _ok({**base, "prompt": prompt + " with <<<element_1>>>", "model_params": one}, "<<<element_1>>>"),
        _bad(
            spec,
            {**base, "prompt": prompt + " with <<<element_2>>>", "model_params": one},
            "<<<element_2>>> with one element",
        ),
    ]


EVOLINK = (
    Crossing(
        ("MULTI-PROMPT",),
        "DURATION-SUM",
        "the shots of model_params.multi_prompt add up to duration",
        _cited(seed(EVOLINK_SEED, "- Total duration of all shots should match the requested duration")),
        _shot_sum_cases,
        (EVO_T2V, EVO_I2V, EVO_REF),
    ),
    Crossing(
        ("MULTI-SHOT",),
        "FIELDS",
        "multi_shot=true needs shot_type and multi_prompt, and only then may prompt be empty",
        _cited(
            seed(
                EVOLINK_SEED,
                "customizemodel_params.multi_promptarrayOptionalPer-shot prompt array. Required when "
                "multi_shot=true and shot_type=customize. Each item defines a shot segment.",
            )
        ),
        _multi_shot_cases,
        (EVO_T2V, EVO_I2V, EVO_REF),
    ),
    Crossing(
        ("IMAGE-URLS",),
        "PLUS-ELEMENTS",
        "with a video, image_urls and model_params.element_list together hold at most 4 items",
        _param_doc("image_urls"),
        _image_budget_cases,
        (EVO_REF,),
    ),
    Crossing(
        ("IMAGE-END",),
        "REQUIRES-START",
        "image_end needs image_start, and is refused when the request has more than 2 images",
        _param_doc("image_end"),
        _image_end_evo_cases,
        (EVO_I2V,),
    ),
    Crossing(
        ("PROMPT",),
        "REFERENCES",
        "a prompt's <<<element_N>>> names one of the request's elements",
        _setting_doc("reject_unknown_references"),
        _reference_token_cases,
        (EVO_T2V,),
    ),
)


# ----------------------------------------------------------------------------- Prospolabs (seed 002)
def _shot_list(*seconds: int) -> list[Body]:
    return [{"prompt": f"shot {i + 1}", "duration": s} for i, s in enumerate(seconds)]


def _prospo_total_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant)
    duration = variant.param("duration")
    assert duration is not None and duration.minimum is not None and duration.maximum is not None
    low, high = int(duration.minimum), int(duration.maximum)
    return [
        _ok({**base, "multi_prompt": _shot_list(high - 5, 5)}, f"shots of {high} s in total"),
        _bad(spec, {**base, "multi_prompt": _shot_list(high - 4, 5)}, f"shots of {high + 1} s in total"),
        _ok({**base, "multi_prompt": _shot_list(low)}, f"one shot of {low} s"),
        _bad(spec, {**base, "multi_prompt": _shot_list(low - 1)}, f"one shot of {low - 1} s"),
    ]


def _prospo_priced(spec: ProviderSpec, variant: Variant) -> list[Body]:
    base = _base(spec, variant)
    return [{**base, "duration": 5, "multi_prompt": _shot_list(4, 3)}]


def _prospo_json_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant)
    return [
        _ok({**base, "multi_prompt": json.dumps(_shot_list(3, 3))}, "a JSON string of two shots"),
        _bad(spec, {**base, "multi_prompt": "shot one, then shot two"}, "free text"),
        _bad(spec, {**base, "multi_prompt": json.dumps({"prompt": "x", "duration": 3})}, "a JSON object"),
    ]


def _prospo_params_cases(spec: ProviderSpec, variant: Variant) -> list[Case]:
    base = _base(spec, variant)
    top: Body = {k: base[k] for k in ("model", "mode") if k in base}
    inner = {k: v for k, v in base.items() if k not in top}
    return [
        _ok({**top, "params": inner}, "the model's fields in a params object"),
        _bad(spec, {**base, "params": "duration=5"}, "params that is not an object"),
        _bad(spec, {**base, "params": {**inner, "duration": 16}}, "params.duration 16 beside a valid one"),
    ]


PROSPO_DOCS = "https://helios-7yg.pages.dev/docs/"
PROSPOLABS = (
    Crossing(
        ("MULTI-PROMPT",),
        "TOTAL",
        "multi_prompt shots add up to a clip of the model's 3-15 s, and the total is what is billed",
        _param_doc("multi_prompt"),
        _prospo_total_cases,
        priced=_prospo_priced,
    ),
    Crossing(
        ("MULTI-PROMPT",),
        "JSON-STRING",
        "multi_prompt may be sent as a JSON string of the shot list; any other string is refused",
        _cited(
            seed(
                "002_459cf4b4dd1a14a7.txt",
                "multi_promptstringStoryboard multiple shots — overrides the single prompt above when used.",
            )
        ),
        _prospo_json_cases,
    ),
    Crossing(
        ("PARAMS",),
        "OBJECT",
        "the model's fields may sit in a params object, which then wins over top-level fields",
        _cited(public(PROSPO_DOCS, "params object")),
        _prospo_params_cases,
    ),
)

CROSSINGS: dict[str, tuple[Crossing, ...]] = {
    "empiriolabs": EMPIRIOLABS,
    "evolink": EVOLINK,
    "prospolabs": PROSPOLABS,
}


# ----------------------------------------------------------------------------- the rule family
def _check(spec: ProviderSpec, variant: Variant, crossing: Crossing, rule_id: str, session: Session) -> None:
    from klingsim_contracts.rules.money import check_price, shows_prices

    run_cases(session, rule_id, crossing.cases(spec, variant))
    if crossing.priced is not None and shows_prices(session):
        for body in crossing.priced(spec, variant):
            session.trail.clear()
            check_price(spec, rule_id, session, body)


def crossfield_rules(spec: ProviderSpec) -> Iterator[Rule]:
    settings = spec.setting_values()
    for crossing in CROSSINGS.get(spec.id, ()):
        for variant in gen.variants(spec):
            if crossing.variants and variant.name not in crossing.variants:
                continue
            rule_id = gen.rule_id(spec, variant, crossing.path, crossing.kind)
            yield Rule(
                rule_id,
                spec.id,
                crossing.title.format(**settings),
                crossing.doc(spec, variant),
                Layer.PROPERTY,
                partial(_check, spec, variant, crossing, rule_id),
            )
