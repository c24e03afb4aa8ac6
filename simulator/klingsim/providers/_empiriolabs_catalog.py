"""EmpirioLabs catalogue as the pages write it: USD price rows and the request parameters of both models.

Seed 000 documents `kling-o3`, seed 004 `kling-3-0-turbo`; guesses are marked inferred with their reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from klingsim.providers._empiriolabs_plan import INVALID, O3, TURBO
from klingsim.providers._empiriolabs_render import USAGE_LIMIT_MAX
from klingsim.spec import (
    Bound,
    Count,
    DocRef,
    EachItem,
    ForbiddenWhen,
    FromSetting,
    NoEmptyItems,
    Param,
    ParamType,
    Rate,
    RequiredWhen,
    Variant,
    When,
    inferred,
    public,
    seed,
)

O3_SEED = "000_5009db154bf32f7e.txt"
TURBO_SEED = "004_7be61b4c4b3832b5.txt"
USAGE = "https://docs.empiriolabs.ai/account-usage-api"


# ----------------------------------------------------------------------------------------------- prices
def _usd(match: dict[str, Any], rate: str, doc_seed: str, quote: str) -> Rate:
    return Rate(match=match, per_second=Decimal(rate), doc=seed(doc_seed, quote), label=f"{quote} ${rate}/s")


def _o3_row(tier: str, rate: str, quote: str, **match: Any) -> Rate:
    return _usd({"model": O3, "model_tier": tier, **match}, rate, O3_SEED, quote)


RATES = (
    _o3_row("standard", "0.168", "Standard T2V/I2V", input="text_image", sound=False),
    # `sound` defaults to true while the table lists separate Sound rows: a request that leaves it out is
    # billed at the Sound row.
    _o3_row("standard", "0.224", "Standard T2V/I2V Sound", input="text_image", sound=True),
    _o3_row("standard", "0.252", "Standard Video Input", input="video"),
    _o3_row("pro", "0.224", "Pro T2V/I2V", input="text_image", sound=False),
    _o3_row("pro", "0.280", "Pro T2V/I2V Sound", input="text_image", sound=True),
    _o3_row("pro", "0.336", "Pro Video Input", input="video"),
    _o3_row("4k", "0.525", "4K T2V/I2V/Ref"),
    _usd({"model": TURBO, "resolution": "720p"}, "0.18", TURBO_SEED, "720p $0.18 per second"),
    _usd({"model": TURBO, "resolution": "1080p"}, "0.225", TURBO_SEED, "1080p $0.225 per second"),
)

# ----------------------------------------------------------------------------------------------- request
ASPECT_RATIOS = ("16:9", "1:1", "9:16")  # seed 000's order
TURBO_ASPECT_RATIOS = ("16:9", "9:16", "1:1")  # seed 004's order
PROMPT = Param(
    "prompt",
    ParamType.STRING,
    inferred(
        "the pages give prompt no default and every example sends one, so it is required; its length "
        "is unstated, so 2500 characters, the upstream Kling and fal limit"
    ),
    required=True,
    min_length=1,
    max_length=2500,
    example="Describe what you want Kling O3 to generate.",
)
DURATION_DOC = "duration | number | 5 | 3 to 15"
# "number" on both pages, while the model takes whole seconds: integral numbers and integer strings are
# accepted, fractions refused.
O3_DURATION = Param(
    "duration",
    ParamType.NUMBER,
    seed(O3_SEED, "durationnumber53 to 15Per-scene duration in seconds."),
    default=5,
    minimum=3,
    maximum=15,
    whole=True,
    numeric_strings=True,
    description="Seconds; in a multi-scene prompt `Ns:` sets a scene, unprefixed scenes share it evenly",
)

O3_PARAMS = (
    Param("model", ParamType.STRING, seed(O3_SEED, "Model ID kling-o3"), required=True, enum=(O3,)),
    PROMPT,
    Param(
        "model_tier",
        ParamType.STRING,
        seed(O3_SEED, "model_tierenumprostandard, pro, 4k"),
        default="pro",
        enum=("standard", "pro", "4k"),
    ),
    Param(
        "workflow",
        ParamType.STRING,
        seed(O3_SEED, "workflowenumautoauto, t2v, i2v, video_edit, reference"),
        default="auto",
        enum=("auto", "t2v", "i2v", "video_edit", "reference"),
    ),
    Param(
        "aspect_ratio",
        ParamType.STRING,
        seed(O3_SEED, "aspect_ratioenum16:916:9, 1:1, 9:16"),
        default="16:9",
        enum=ASPECT_RATIOS,
    ),
    O3_DURATION,
    Param(
        "sound",
        ParamType.BOOLEAN,
        seed(O3_SEED, "soundbooleantrue-Generate native audio with the video."),
        default=True,
    ),
    Param(
        "keep_original_sound",
        ParamType.BOOLEAN,
        seed(O3_SEED, "keep_original_soundbooleantrue-video_edit only. Keep audio from the source video."),
        default=True,
    ),
    Param(
        "image",
        ParamType.STRING,
        seed(O3_SEED, "imagestring--Reference image URL for i2v."),
        min_length=1,
        format="image-url",
    ),
    Param(
        "image_end",
        ParamType.STRING,
        seed(O3_SEED, "image_endstring--Optional last-frame image URL for image-to-video."),
        min_length=1,
        format="image-url",
    ),
    Param(
        "video",
        ParamType.STRING,
        seed(O3_SEED, "videostring--Source video URL for video_edit."),
        min_length=1,
        format="video-url",
    ),
    Param(
        "reference_images",
        ParamType.STRING,
        seed(O3_SEED, "reference_imagesstring--Comma-separated image URLs for reference workflow."),
        min_length=1,
        description="Comma-separated URLs (as the page types it); an array of URLs is accepted too",
    ),
    Param(
        "reference_videos",
        ParamType.STRING,
        seed(O3_SEED, "reference_videosstring--Comma-separated video URLs for reference workflow."),
        min_length=1,
        format="video-urls",
        description="Comma-separated URLs (as the page types it); an array of URLs is accepted too",
    ),
)

_WORKFLOWS = (
    "i2v: image-to-video. video_edit: edit attached video. "
    "reference: use reference_images or reference_videos."
)
O3_RULES = (
    RequiredWhen(
        ("image",),
        When("workflow", ("i2v",)),
        INVALID,
        seed(O3_SEED, _WORKFLOWS),
        message="workflow i2v needs image",
    ),
    RequiredWhen(
        ("video",),
        When("workflow", ("video_edit",)),
        INVALID,
        seed(O3_SEED, _WORKFLOWS),
        message="workflow video_edit needs video",
    ),
    RequiredWhen(
        ("reference_images", "reference_videos"),
        When("workflow", ("reference",)),
        INVALID,
        seed(O3_SEED, _WORKFLOWS),
        message="workflow reference needs reference_images or reference_videos",
    ),
    # The page says 4K does not take video inputs; a request that sends one is refused (400).
    ForbiddenWhen(
        ("video", "reference_videos"),
        When("model_tier", ("4k",)),
        INVALID,
        seed(
            O3_SEED,
            "Kling O3 4K supports text, image, and image-only reference workflows. "
            "Use Standard or Pro for video inputs.",
        ),
        message="model_tier 4k does not take video inputs; use standard or pro",
    ),
)

TURBO_PARAMS = (
    Param(
        "model",
        ParamType.STRING,
        seed(TURBO_SEED, '"model": "kling-3-0-turbo"'),
        required=True,
        enum=(TURBO,),
    ),
    PROMPT,
    Param(
        "image",
        ParamType.STRING,
        seed(TURBO_SEED, "| image | string | - | - | Optional source image (URL or base64)."),
        min_length=1,
        format="image-url-or-base64",
    ),
    Param(
        "negative_prompt",
        ParamType.STRING,
        seed(TURBO_SEED, "| negative_prompt | string | - | - | What to avoid in the generated video. |"),
    ),
    Param(
        "resolution",
        ParamType.STRING,
        seed(TURBO_SEED, "| resolution | enum | 720p | 720p, 1080p |"),
        default="720p",
        enum=("720p", "1080p"),
    ),
    Param(
        "aspect_ratio",
        ParamType.STRING,
        seed(TURBO_SEED, "| aspect_ratio | enum | 16:9 | 16:9, 9:16, 1:1 |"),
        default="16:9",
        enum=TURBO_ASPECT_RATIOS,
        description="Used for text-to-video; image-to-video follows the source image (seed 004)",
    ),
    Param(
        "duration",
        ParamType.NUMBER,
        seed(TURBO_SEED, f"| {DURATION_DOC} | Video length in seconds. |"),
        default=5,
        minimum=3,
        maximum=15,
        whole=True,
        numeric_strings=True,
    ),
)


def _reference_list(name: str, quote: str, limit: str, doc_limit: DocRef) -> tuple[Any, ...]:
    return (
        NoEmptyItems(
            f"empiriolabs.{name}-no-empty-item",
            INVALID,
            seed(O3_SEED, quote),
            f"{name} has an empty item; send comma-separated URLs",
            path=name,
        ),
        Count(
            f"empiriolabs.{name}-count",
            INVALID,
            doc_limit,
            f"{name} has {{count}} items; at most {{limit}} are allowed",
            path=name,
            split=",",
            maximum=FromSetting(limit),
        ),
    )


NOT_VIDEO_EDIT = When("@workflow", ("video_edit",), negate=True)
SCENES_DOC = seed(
    O3_SEED, "pipe (|) or newline-separated prompts, optionally prefixed with duration like '5s: scene text'"
)
O3_CONSTRAINTS = (
    *_reference_list(
        "reference_images",
        "reference_imagesstring--Comma-separated image URLs for reference workflow.",
        "max_reference_images",
        inferred("the reference list limit is undocumented; 7 images, the upstream Kling O3 limit"),
    ),
    *_reference_list(
        "reference_videos",
        "reference_videosstring--Comma-separated video URLs for reference workflow.",
        "max_reference_videos",
        inferred("the reference list limit is undocumented; 1 video, the upstream Kling O3 limit"),
    ),
    RequiredWhen(
        ("image",),
        When("image_end", present=True),
        INVALID,
        seed(O3_SEED, "image_endstring--Optional last-frame image URL for image-to-video."),
        "image_end is the last frame of an image-to-video job; send image too",
        id="empiriolabs.image-end-needs-image",
        param="image_end",
    ),
    Count(
        "empiriolabs.scenes-at-least-one",
        INVALID,
        SCENES_DOC,
        "prompt must contain at least one scene",
        param="prompt",
        path="@scenes",
        minimum=1,
    ),
    Count(
        "empiriolabs.scenes-at-most",
        INVALID,
        seed(O3_SEED, "Up to 6 scenes."),
        "prompt has {count} scenes; at most {limit} are allowed",
        param="prompt",
        path="@scenes",
        maximum=FromSetting("max_scenes"),
    ),
    EachItem(
        "empiriolabs.scene-seconds",
        INVALID,
        inferred("a scene shorter than 1 s can't be rendered, so it is refused (setting min_scene_seconds)"),
        "scene {index1} lasts {value:.3g} s; each scene needs at least {limit} s",
        when=(NOT_VIDEO_EDIT,),
        param="prompt",
        path="@scenes",
        field="seconds",
        minimum=FromSetting("min_scene_seconds"),
    ),
    Bound(
        "empiriolabs.scenes-total",
        INVALID,
        inferred(
            "a multi-scene video may last at most the model's 15 s ('3 to 15'); a video edit follows its "
            "source instead (setting max_total_seconds)"
        ),
        "the scenes last {value} s in total; at most {limit} s",
        when=(NOT_VIDEO_EDIT,),
        param="prompt",
        path="@scene_total",
        maximum=FromSetting("max_total_seconds"),
    ),
)

VARIANTS = (
    Variant(
        O3,
        O3_PARAMS,
        seed(O3_SEED, "Kling O3 API parameters"),
        rules=O3_RULES,
        constraints=O3_CONSTRAINTS,
        description="Kling O3: up to 6 scenes, tiers standard/pro/4k, workflows t2v/i2v/video_edit/reference",
    ),
    Variant(
        TURBO,
        TURBO_PARAMS,
        seed(TURBO_SEED, "Request parameters supported by the Kling 3.0 Turbo API"),
        description="Kling 3.0 Turbo: text- or image-to-video with native audio, 720p or 1080p",
    ),
)

USAGE_QUERY = tuple(
    Param(
        name,
        kind,
        public(USAGE, "GET /v1/account/usage?limit=&from=&to=&before=&model=&status=&source="),
        **extra,
    )
    for name, kind, extra in (
        ("limit", ParamType.INTEGER, {"minimum": 1, "maximum": USAGE_LIMIT_MAX, "default": 20}),
        ("from", ParamType.STRING, {"description": "ISO-8601 time or Unix seconds, inclusive"}),
        ("to", ParamType.STRING, {"description": "ISO-8601 time or Unix seconds, exclusive"}),
        ("before", ParamType.STRING, {"description": "usage event id: the page after it"}),
        ("model", ParamType.STRING, {"enum": (O3, TURBO)}),
        ("status", ParamType.STRING, {}),
        ("source", ParamType.STRING, {"enum": ("api", "playground", "compose")}),
    )
)
