"""fal.ai's twelve Kling endpoints: the model id in the path picks the input schema (contract 2.2, 2.4).

O3 and V3 differ in defaults (`generate_audio` false for O3, true for V3), in V3's extra fields
(`negative_prompt`, `cfg_scale`, `voice_ids`) and in how an image-to-video names its first frame (`image_url`
for O3, `start_image_url` for V3).
"""

from __future__ import annotations

from decimal import Decimal

from klingsim.spec import (
    DocRef,
    Param,
    ParamType,
    ProbedRange,
    Rate,
    RequiredWhen,
    Rule,
    Variant,
    When,
    public,
)

APP = "fal-ai/kling-video"
PAGE = "https://fal.ai/docs/model-api-reference/video-generation-api/kling-video-o3-pro-text-to-video"
I2V_PAGE = (
    "https://fal.ai/docs/model-api-reference/video-generation-api/kling-video-o3-standard-image-to-video"
)
LLMS = "https://fal.ai/llms.txt"
DURATIONS = tuple(str(n) for n in range(3, 16))
V3_NEGATIVE = "blur, distort, and low quality"

# model id -> (family, input group, price tier)
MODELS: dict[str, tuple[str, str, str]] = {
    f"{APP}/o3/standard/text-to-video": ("o3", "t2v", "o3-standard"),
    f"{APP}/o3/pro/text-to-video": ("o3", "t2v", "o3-pro"),
    f"{APP}/o3/standard/image-to-video": ("o3", "i2v", "o3-standard"),
    f"{APP}/o3/pro/image-to-video": ("o3", "i2v", "o3-pro"),
    f"{APP}/o3/standard/reference-to-video": ("o3", "ref", "o3-standard"),
    f"{APP}/o3/pro/reference-to-video": ("o3", "ref", "o3-pro"),
    f"{APP}/o3/pro/video-to-video/edit": ("o3", "edit", "o3-edit"),
    f"{APP}/v3/standard/text-to-video": ("v3", "t2v", "v3-standard"),
    f"{APP}/v3/pro/text-to-video": ("v3", "t2v", "v3-pro"),
    f"{APP}/v3/standard/image-to-video": ("v3", "i2v", "v3-standard"),
    f"{APP}/v3/pro/image-to-video": ("v3", "i2v", "v3-pro"),
    f"{APP}/v3/4k/text-to-video": ("v3", "t2v", "v3-4k"),
}


def page(quote: str) -> DocRef:
    return public(PAGE, quote)


def _url(name: str, quote: str, *, required: bool = False, video: bool = False) -> Param:
    return Param(
        name,
        ParamType.STRING,
        page(quote),
        required=required,
        min_length=1 if required else None,
        format="video-url" if video else "image-url",
    )


def _elements(limit: int | None) -> Param:
    return Param(
        "elements",
        ParamType.ARRAY,
        page("elements: characters or objects to keep consistent (<= 4 together with a video)"),
        max_items=limit,
        items=Param(
            "elements[]",
            ParamType.OBJECT,
            page("element: {frontal_image_url, reference_image_urls}"),
            properties=(
                Param("frontal_image_url", ParamType.STRING, page("frontal_image_url")),
                Param(
                    "reference_image_urls",
                    ParamType.ARRAY,
                    page("reference_image_urls"),
                    items=Param("reference_image_urls[]", ParamType.STRING, page("image URL")),
                ),
            ),
        ),
    )


def _image_urls() -> Param:
    return Param(
        "image_urls",
        ParamType.ARRAY,
        page("image_urls: reference images"),
        items=Param("image_urls[]", ParamType.STRING, page("image URL"), min_length=1, format="image-url"),
    )


def _timing(family: str) -> tuple[Param, ...]:
    shot_words = ("customize", "intelligent") if family == "v3" else ("customize",)
    return (
        Param(
            "duration",
            ParamType.STRING,
            page('duration: enum "3" ... "15", default "5"'),
            default="5",
            enum=DURATIONS,
        ),
        Param(
            "aspect_ratio",
            ParamType.STRING,
            page("aspect_ratio: 16:9 | 9:16 | 1:1, default 16:9"),
            default="16:9",
            enum=("16:9", "9:16", "1:1"),
        ),
        Param(
            "multi_prompt",
            ParamType.ARRAY,
            page("multi_prompt: list of {prompt, duration} shots"),
            items=Param(
                "multi_prompt[]",
                ParamType.OBJECT,
                page("shot: {prompt, duration}"),
                properties=(
                    Param("prompt", ParamType.STRING, page("shot prompt"), required=True, min_length=1),
                    Param(
                        "duration",
                        ParamType.STRING,
                        page("shot duration, a string"),
                        required=True,
                        enum=tuple(str(n) for n in range(1, 16)),
                    ),
                ),
            ),
        ),
        Param(
            "shot_type",
            ParamType.STRING,
            page(f"shot_type: {' | '.join(shot_words)}, default customize"),
            default="customize",
            enum=shot_words,
        ),
    )


def _audio(family: str) -> Param:
    default = family == "v3"
    return Param(
        "generate_audio",
        ParamType.BOOLEAN,
        page(f"generate_audio: boolean, default {'true' if default else 'false'}"),
        default=default,
    )


def _v3_extras() -> tuple[Param, ...]:
    return (
        Param(
            "negative_prompt",
            ParamType.STRING,
            page(f'negative_prompt: default "{V3_NEGATIVE}"'),
            default=V3_NEGATIVE,
        ),
        Param(
            "cfg_scale",
            ParamType.NUMBER,
            page("cfg_scale: 0-1, default 0.5"),
            default=0.5,
            minimum=0,
            maximum=1,
        ),
        Param(
            "voice_ids",
            ParamType.ARRAY,
            page("voice_ids: up to 2 voice ids"),
            max_items=2,
            items=Param("voice_ids[]", ParamType.STRING, page("voice id"), min_length=1),
        ),
    )


PROMPT = Param("prompt", ParamType.STRING, page("prompt: the text prompt"), min_length=1, example="A red fox")


def _params(family: str, group: str) -> tuple[Param, ...]:
    if group == "edit":
        return (
            Param("prompt", ParamType.STRING, page("prompt: the edit to make"), required=True, min_length=1),
            _url("video_url", "video_url: the video to edit (3-10 s)", required=True, video=True),
            _image_urls(),
            _elements(4),
            Param("keep_audio", ParamType.BOOLEAN, page("keep_audio: default true"), default=True),
        )
    params: list[Param] = [PROMPT, *_timing(family), _audio(family)]
    if family == "v3":
        params.extend(_v3_extras())
    if group == "i2v":
        first = "image_url" if family == "o3" else "start_image_url"
        params += [
            _url(first, f"{first}: the first frame", required=True),
            _url("end_image_url", "end frame"),
        ]
    if group == "ref":
        params += [_url("start_image_url", "start frame"), _url("end_image_url", "end frame")]
        params += [_image_urls(), _elements(None)]
    return tuple(params)


def _constraints(group: str) -> tuple[ProbedRange, ...]:
    if group != "edit":
        return ()
    return (
        ProbedRange(
            "fal.edit-source-length",
            "validation_error",
            page("video_url: the video to edit lasts 3-10 s"),
            "video_url lasts {value:.1f} s; an edit takes 3 to 10 s",
            path="video_url",
            minimum=3,
            maximum=10,
        ),
    )


def _rules(group: str) -> tuple[Rule, ...]:
    if group == "edit":
        return ()
    return (
        RequiredWhen(
            ("prompt",),
            When("multi_prompt", present=True, negate=True),
            "validation_error",
            page("prompt: required unless multi_prompt is given"),
            message="field required",
        ),
    )


def variants() -> tuple[Variant, ...]:
    return tuple(
        Variant(
            model,
            _params(family, group),
            page(f"{model} input schema"),
            _rules(group),
            tags=frozenset({family, group, tier}),
            constraints=_constraints(group),
        )
        for model, (family, group, tier) in MODELS.items()
    )


def _rate(tier: str, audio: bool, usd: str, doc: DocRef, voices: bool | None = None) -> Rate:
    match: dict[str, object] = {"tier": tier, "audio": audio}
    if voices is not None:
        match["voices"] = voices
    return Rate(match, doc, per_second=Decimal(usd), label=f"{tier} audio={audio} {usd}/s")


def _o3(quote: str) -> DocRef:
    return public(I2V_PAGE, quote)


RATES = (
    _rate("o3-standard", False, "0.084", _o3("$0.084 per second, $0.112 with audio")),
    _rate("o3-standard", True, "0.112", _o3("$0.084 per second, $0.112 with audio")),
    _rate("o3-pro", False, "0.112", public(LLMS, "O3 pro: $0.112/s, $0.14/s with audio")),
    _rate("o3-pro", True, "0.14", public(LLMS, "O3 pro: $0.112/s, $0.14/s with audio")),
    _rate("o3-edit", False, "0.336", public(LLMS, "O3 pro video edit: $0.336/s")),
    _rate("o3-edit", True, "0.336", public(LLMS, "O3 pro video edit: $0.336/s")),
    _rate("v3-standard", False, "0.084", public(LLMS, "V3 standard: $0.084/s")),
    _rate("v3-standard", True, "0.154", public(LLMS, "V3 standard: $0.154/s with voice control"), True),
    _rate("v3-standard", True, "0.126", public(LLMS, "V3 standard: $0.126/s with audio")),
    _rate("v3-pro", False, "0.112", public(LLMS, "V3 pro: $0.112/s")),
    _rate("v3-pro", True, "0.196", public(LLMS, "V3 pro: $0.196/s with voice control"), True),
    _rate("v3-pro", True, "0.168", public(LLMS, "V3 pro: $0.168/s with audio")),
    _rate("v3-4k", False, "0.42", public(LLMS, "V3 4K: $0.42/s")),
    _rate("v3-4k", True, "0.42", public(LLMS, "V3 4K: $0.42/s")),
)
