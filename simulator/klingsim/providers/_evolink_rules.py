"""EvoLink's documented rules between fields, declared as constraints, and the models that carry them."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from klingsim.providers._evolink_models import EDIT, I2V, INVALID, REF, SEED, T2V, page
from klingsim.providers._evolink_models import VARIANTS as DECLARED
from klingsim.spec import (
    CountAcross,
    EachItem,
    Facts,
    ProbedRange,
    RequiredWhen,
    Total,
    Variant,
    When,
    inferred,
    seed,
)
from klingsim.spec.constraints import Check

SHOTS = "model_params.multi_prompt"
MULTI = When("model_params.multi_shot", (True,))

MULTI_SHOT = (
    RequiredWhen(
        ("prompt",),
        When("model_params.multi_shot", (True,), negate=True),
        INVALID,
        inferred(
            "prompt is documented as required, yet may be empty with multi_shot=true and shot_type=customize"
        ),
        "prompt is required unless model_params.multi_shot=true and shot_type=customize",
        id="evolink.prompt-unless-multi-shot",
        nonblank=True,
    ),
    RequiredWhen(
        ("model_params.shot_type",),
        MULTI,
        INVALID,
        seed(SEED, "Shot type for multi-shot mode. Required when multi_shot is true"),
        "model_params.shot_type is required when multi_shot is true",
        id="evolink.shot-type-with-multi-shot",
    ),
    RequiredWhen(
        (SHOTS,),
        MULTI,
        INVALID,
        seed(SEED, "Per-shot prompt array. Required when multi_shot=true and shot_type=customize."),
        "model_params.multi_prompt is required when multi_shot=true and shot_type=customize",
        id="evolink.shots-with-multi-shot",
    ),
    EachItem(
        "evolink.shot-duration",
        INVALID,
        seed(SEED, "Format: [{index: number, prompt: string, duration: string}, ...]"),
        'model_params.multi_prompt[{index}].duration must be a whole number of seconds, as a string like "5"',
        when=(MULTI,),
        param=SHOTS + "[{index}].duration",
        path=SHOTS,
        field="duration",
        pattern="[0-9]+",
        minimum=1,
    ),
)
# Video edit has no duration (it follows the source), so only the other models can check the sum.
SHOTS_SUM = Total(
    "evolink.shots-sum",
    INVALID,
    seed(SEED, "- Total duration of all shots should match the requested duration"),
    "the durations of model_params.multi_prompt add up to {total} s; they must equal duration ({target} s)",
    when=(MULTI,),
    path=SHOTS,
    field="duration",
    equals="duration",
)
IMAGE_END = (
    RequiredWhen(
        ("image_start",),
        When("image_end", present=True),
        INVALID,
        page(I2V, "image_end (needs image_start; not allowed when the total image count is above 2)"),
        "image_end requires image_start (a last frame requires a first frame)",
        id="evolink.image-end-needs-start",
        param="image_end",
    ),
    CountAcross(
        "evolink.image-end-total",
        INVALID,
        page(I2V, "image_end (needs image_start; not allowed when the total image count is above 2)"),
        "image_end is not supported when the total image count exceeds 2 (it is {count})",
        when=(When("image_end", present=True),),
        param="image_end",
        paths=("image_start", "image_end", "image_urls"),
        maximum=2,
    ),
)
IMAGES_WITH_VIDEO = CountAcross(
    "evolink.images-elements",
    INVALID,
    page(EDIT, "Constraint: Reference image count + element count <= 4 when video is provided"),
    "image_urls ({n0}) + element_list ({n1}) must be at most 4 when a video is given",
    when=(When("video_url", present=True),),
    param="image_urls",
    paths=("image_urls", "model_params.element_list"),
    maximum=4,
)

_REFERENCE = re.compile(r"<<<(element|image|video)_(\d+)>>>")


def unknown_reference(facts: Facts) -> tuple[str, str] | None:
    """The first `<<<element_N>>>` (or image_N, video_N) of a prompt beyond what the request supplies."""
    model = facts.get("model")
    available = {
        "element": len(facts.get("model_params.element_list") or []),
        "image": len(facts.get("image_urls") or []) if model != T2V else 0,
        "video": 1 if model in (REF, EDIT) and facts.get("video_url") else 0,
    }
    shots: list[dict[str, Any]] = facts.get(SHOTS) or []
    texts = [("prompt", facts.get("prompt") or "")]
    texts += [(f"{SHOTS}[{i}].prompt", s["prompt"]) for i, s in enumerate(shots)]
    for where, text in texts:
        for found in _REFERENCE.finditer(text):
            kind, n = found.group(1), int(found.group(2))
            if not 1 <= n <= available[kind]:
                return (
                    f"{where} refers to {found.group(0)}, but the request has {available[kind]} "
                    f"{kind}(s) to refer to",
                    where,
                )
    return None


REFERENCES = Check(
    "evolink.prompt-references",
    INVALID,
    inferred(
        "a prompt naming <<<element_N>>> (or image_N / video_N) beyond what the request supplies can't be "
        "rendered; 400 invalid_request_error, param prompt"
    ),
    "",
    enabled_by="reject_unknown_references",
    test=unknown_reference,
)
# Reference videos: "video_url (MP4/MOV, <=200 MB, >=3 s ...)", used up to 10 s.
REFERENCE_VIDEO = ProbedRange(
    "evolink.reference-video-length",
    INVALID,
    page(
        REF, "video_url string<uri> Reference video URL (MP4 / MOV, <= 200MB, >= 3 seconds); up to 10 s used"
    ),
    "video_url must be 3-10 seconds long, not {value:.1f}",
    path="video_url",
    minimum=3.0,
    maximum=10.0,
)

CONSTRAINTS = {
    T2V: (*MULTI_SHOT, SHOTS_SUM, REFERENCES),
    I2V: (*MULTI_SHOT, SHOTS_SUM, *IMAGE_END, REFERENCES),
    REF: (*MULTI_SHOT, SHOTS_SUM, IMAGES_WITH_VIDEO, REFERENCES, REFERENCE_VIDEO),
    EDIT: (*MULTI_SHOT, IMAGES_WITH_VIDEO, REFERENCES),
}

VARIANTS: tuple[Variant, ...] = tuple(
    dataclasses.replace(v, constraints=CONSTRAINTS[v.name]) for v in DECLARED
)
