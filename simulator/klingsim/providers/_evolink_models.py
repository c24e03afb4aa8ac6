"""EvoLink's Kling O3 models: their parameters, the rules between them, and the credit price rows.

The text-to-video model is the seed page (001); its siblings come from EvoLink's public model pages.
"""

from __future__ import annotations

from klingsim.spec import (
    DocRef,
    Param,
    ParamType,
    RequiredWhen,
    Variant,
    When,
    inferred,
    public,
    seed,
)

SEED = "001_12a015e8ae57e13b.txt"
DOCS = "https://docs.evolink.ai/en/api-manual/video-series/kling/"
T2V = "kling-o3-text-to-video"
I2V = "kling-o3-image-to-video"
REF = "kling-o3-reference-to-video"
EDIT = "kling-o3-video-edit"
MODELS = (T2V, I2V, REF, EDIT)
INVALID = "invalid_request_error"
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
QUALITIES = ("720p", "1080p")


def page(model: str, quote: str) -> DocRef:
    return public(DOCS + model, quote)


# ----------------------------------------------------------------- parameters shared by the models
def _model(name: str, doc: DocRef) -> Param:
    # Documented as "Required" with a default: a body without `model` is the text-to-video model.
    return Param(
        "model",
        ParamType.STRING,
        doc,
        default=name,
        enum=(name,),
        example=name,
        description="Video generation model name (required; defaults to the page's model)",
    )


def _prompt(doc: DocRef, example: str) -> Param:
    # Required, but may be empty with multi_shot=true + shot_type=customize: a constraint (_evolink_rules.py).
    return Param(
        "prompt",
        ParamType.STRING,
        doc,
        max_length=2500,
        example=example,
        description="Max 2500 characters; may be empty only with model_params.multi_shot=true and "
        "shot_type=customize",
    )


def _duration(maximum: int, doc: DocRef) -> Param:
    return Param("duration", ParamType.INTEGER, doc, default=5, minimum=3, maximum=maximum)


ASPECT = Param(
    "aspect_ratio",
    ParamType.STRING,
    seed(SEED, "aspect_ratiostringOptionalVideo aspect ratio."),
    default="16:9",
    enum=ASPECT_RATIOS,
    description="Default 16:9 (the value the seed shows; the page gives no default)",
)
QUALITY = Param(
    "quality",
    ParamType.STRING,
    seed(SEED, "qualitystringOptionalDefault: 720p"),
    default="720p",
    enum=QUALITIES,
)
SOUND = Param(
    "sound",
    ParamType.STRING,
    seed(SEED, "soundstringOptionalDefault: off"),
    default="off",
    enum=("on", "off"),
    description='The strings "on" / "off" only (as the page types it)',
)
CALLBACK = Param(
    "callback_url",
    ParamType.STRING,
    seed(SEED, "HTTPS only, no internal IPs - Max length: 2048 chars"),
    max_length=2048,
    format="https-url",
    example="https://your-domain.com/webhooks/video-task-completed",
)
KEEP_SOUND = Param(
    "keep_original_sound",
    ParamType.BOOLEAN,
    page(REF, "keep_original_sound boolean (default true)"),
    default=True,
)
VIDEO_URL_DOC = page(REF, "video_url string<uri> Reference video URL (MP4 / MOV, <= 200MB, >= 3 seconds)")

_SHOT = Param(
    "multi_prompt[]",
    ParamType.OBJECT,
    seed(SEED, "Format: [{index: number, prompt: string, duration: string}, ...]"),
    properties=(
        Param("index", ParamType.NUMBER, seed(SEED, "index: number"), required=True),
        Param("prompt", ParamType.STRING, seed(SEED, "prompt: string"), required=True, max_length=2500),
        Param("duration", ParamType.STRING, seed(SEED, "duration: string"), required=True),
    ),
)
_ELEMENT = Param(
    "element_list[]",
    ParamType.OBJECT,
    seed(SEED, "Format: [{element_id: long}, ...]"),
    properties=(Param("element_id", ParamType.INTEGER, seed(SEED, "element_id: long"), required=True),),
)
MODEL_PARAMS = Param(
    "model_params",
    ParamType.OBJECT,
    seed(SEED, "model_params.multi_shotbooleanOptionalDefault: false"),
    properties=(
        Param(
            "multi_shot",
            ParamType.BOOLEAN,
            seed(SEED, "model_params.multi_shotbooleanOptionalDefault: false"),
            default=False,
        ),
        Param(
            "shot_type",
            ParamType.STRING,
            seed(SEED, "| customize | Custom per-shot prompts and durations |"),
            enum=("customize",),
            description="Required when multi_shot is true (the page lists customize only)",
        ),
        Param(
            "multi_prompt",
            ParamType.ARRAY,
            seed(SEED, "- Max 6 shots"),
            max_items=6,
            items=_SHOT,
            example=[
                {"index": 1, "prompt": "A person on a hilltop", "duration": "5"},
                {"index": 2, "prompt": "Camera pulls back", "duration": "5"},
            ],
        ),
        Param(
            "element_list",
            ParamType.ARRAY,
            seed(SEED, "- Max 7 subjects"),
            max_items=7,
            items=_ELEMENT,
            example=[{"element_id": 123456}],
        ),
        Param(
            "watermark_info",
            ParamType.OBJECT,
            seed(SEED, "- Format: {enabled: boolean}"),
            properties=(
                Param("enabled", ParamType.BOOLEAN, seed(SEED, "{enabled: boolean}"), required=True),
            ),
            example={"enabled": False},
        ),
    ),
)


def _image_urls(max_items: int, doc: DocRef) -> Param:
    return Param(
        "image_urls",
        ParamType.ARRAY,
        doc,
        max_items=max_items,
        items=Param("image_urls[]", ParamType.STRING, doc, min_length=1, format="image-url"),
    )


# ----------------------------------------------------------------- the four models
TEXT_TO_VIDEO = Variant(
    T2V,
    (
        _model(T2V, seed(SEED, "modelstringRequiredDefault: kling-o3-text-to-video")),
        _prompt(
            seed(SEED, "- Max 2500 characters"),
            "A golden retriever running through a sunlit meadow, cinematic slow motion.",
        ),
        _duration(15, seed(SEED, "- Range: 3-15 seconds (integer)")),
        ASPECT,
        QUALITY,
        SOUND,
        CALLBACK,
        MODEL_PARAMS,
    ),
    seed(SEED, "Kling O3 Text to Video (kling-o3-text-to-video) generates videos from text prompts"),
)

IMAGE_TO_VIDEO = Variant(
    I2V,
    (
        _model(I2V, page(I2V, "default:kling-o3-image-to-video")),
        _prompt(
            page(I2V, "Maximum 2500 characters"),
            "The person in the image slowly turns their head and smiles",
        ),
        Param(
            "image_start",
            ParamType.STRING,
            page(I2V, "image_start string<uri> First frame image URL"),
            min_length=1,
            format="image-url",
        ),
        Param(
            "image_end",
            ParamType.STRING,
            page(I2V, "image_end string<uri> Last frame image URL"),
            min_length=1,
            format="image-url",
        ),
        _image_urls(
            7,
            inferred(
                "the image-to-video page gives no count for image_urls; 7 is the seed's "
                "subject limit and the upstream Kling O3 image limit"
            ),
        ),
        _duration(15, page(I2V, "duration integer 3-15")),
        QUALITY,
        SOUND,
        CALLBACK,
        MODEL_PARAMS,
    ),
    page(I2V, "kling-o3-image-to-video"),
    rules=(
        RequiredWhen(
            ("image_start", "image_urls", "image_end"),
            When("model", (I2V,)),
            INVALID,
            inferred("image-to-video without any image has nothing to animate"),
            message="image_start or image_urls is required for kling-o3-image-to-video",
        ),
    ),
)

REFERENCE_TO_VIDEO = Variant(
    REF,
    (
        _model(REF, page(REF, "default:kling-o3-reference-to-video")),
        _prompt(
            page(REF, "Text prompt, max 2500 characters"),
            "Keep the same motion style, change to a snowy background",
        ),
        Param("video_url", ParamType.STRING, VIDEO_URL_DOC, min_length=1, format="video-url"),
        KEEP_SOUND,
        _image_urls(
            7, page(REF, "image_urls[]: images + elements <= 4 when a video is given (7 without: inferred)")
        ),
        _duration(10, page(REF, "duration 3-10")),
        ASPECT,
        QUALITY,
        CALLBACK,
        MODEL_PARAMS,
    ),
    page(REF, "kling-o3-reference-to-video"),
    rules=(
        RequiredWhen(
            ("video_url", "image_urls"),
            When("model", (REF,)),
            INVALID,
            inferred("reference-to-video needs something to refer to: a video or reference images"),
            message="video_url or image_urls is required for kling-o3-reference-to-video",
        ),
    ),
)

VIDEO_EDIT = Variant(
    EDIT,
    (
        _model(EDIT, page(EDIT, "default:kling-o3-video-edit")),
        _prompt(
            page(EDIT, "Edit instruction, max 2500 characters"),
            "Adjust the color to warm tones and add a cinematic feel",
        ),
        Param(
            "video_url",
            ParamType.STRING,
            page(EDIT, "video_url string<uri> Video URL to edit"),
            required=True,
            min_length=1,
            format="video-url",
        ),
        Param(
            "keep_original_sound",
            ParamType.BOOLEAN,
            page(EDIT, "true: Keep the original video sound (default)"),
            default=True,
        ),
        _image_urls(
            4, page(EDIT, "Constraint: Reference image count + element count <= 4 when video is provided")
        ),
        QUALITY,
        CALLBACK,
        MODEL_PARAMS,
    ),
    page(EDIT, "kling-o3-video-edit"),
    description="No duration: the output is as long as the source video",
)

VARIANTS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, REFERENCE_TO_VIDEO, VIDEO_EDIT)
