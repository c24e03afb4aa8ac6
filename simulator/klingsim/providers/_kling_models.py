"""The official Kling API's request fields per create path and model (upstream contract, section 1.3).

Each create path (text2video, image2video, omni-video) has one variant per `model_name`; a model's own limits
are its variant's field declarations: its duration enum, `sound` accepting only "off" where the model has no
audio, `multi_shot` only false where the model can't cut shots.
"""

from __future__ import annotations

from decimal import Decimal

from klingsim.spec import (
    Check,
    Constraint,
    Count,
    DocRef,
    Facts,
    Param,
    ParamType,
    ProbedRange,
    Rate,
    RequiredWhen,
    Rule,
    Total,
    Variant,
    When,
    inferred,
    public,
)

# The official pages, read through a public mirror of them (upstream contract, section 1 "Sources").
MIRROR = "https://app.klingai.com/global/dev/document-api/apiReference/model/textToVideo"
OMNI_PAGE = "https://app.klingai.com/global/dev/document-api/apiReference/model/OmniVideo"


def mirror(quote: str) -> DocRef:
    return public(MIRROR, quote)


OLDER = ("kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6")
VIDEO_MODELS = (*OLDER, "kling-v3")
OMNI_MODELS = ("kling-video-o1", "kling-v3-omni")
MASTER = ("kling-v2-master", "kling-v2-1-master")
WITH_SOUND = frozenset({"kling-v2-6", "kling-v3", "kling-v3-omni"})
MULTI_SHOT = frozenset({"kling-v3", "kling-v3-omni"})
LONG = frozenset({"kling-v3", "kling-v3-omni"})
KINDS = {"text2video": VIDEO_MODELS, "image2video": VIDEO_MODELS, "omni-video": OMNI_MODELS}
DEFAULT_MODEL = {"text2video": "kling-v1", "image2video": "kling-v1", "omni-video": "kling-video-o1"}
SHORT_DURATIONS = ("5", "10")
LONG_DURATIONS = tuple(str(n) for n in range(3, 16))
SHOT_DURATIONS = tuple(str(n) for n in range(1, 16))


def _durations(model: str) -> tuple[str, ...]:
    return LONG_DURATIONS if model in LONG else SHORT_DURATIONS


def _shot() -> Param:
    return Param(
        "multi_prompt[]",
        ParamType.OBJECT,
        mirror("multi_prompt: [{index, prompt (<= 512), duration}]"),
        properties=(
            Param("index", ParamType.INTEGER, mirror("index: shot number"), required=True, minimum=1),
            Param("prompt", ParamType.STRING, mirror("shot prompt, <= 512"), required=True, max_length=512),
            Param(
                "duration",
                ParamType.STRING,
                mirror("shot duration in seconds, a string, at least 1"),
                required=True,
                enum=SHOT_DURATIONS,
            ),
        ),
    )


def _common(kind: str, model: str) -> tuple[Param, ...]:
    models = KINDS[kind]
    return (
        Param(
            "model_name",
            ParamType.STRING,
            mirror(f"model_name: {' | '.join(models)}; default {DEFAULT_MODEL[kind]}"),
            default=DEFAULT_MODEL[kind],
            enum=models,
        ),
        Param(
            "prompt",
            ParamType.STRING,
            mirror("prompt: positive text prompt, no more than 2500 characters"),
            max_length=2500,
            example="A cat playing the piano in a jazz club",
        ),
        Param(
            "negative_prompt",
            ParamType.STRING,
            mirror("negative_prompt: no more than 2500 characters"),
            max_length=2500,
        ),
        Param(
            "mode",
            ParamType.STRING,
            mirror("mode: std | pro; default std (omni-video: pro)"),
            default="pro" if kind == "omni-video" else "std",
            enum=("std", "pro"),
        ),
        Param(
            "duration",
            ParamType.STRING,
            mirror("duration: string, '5' or '10' (kling-v3 family: '3'..'15'); default '5'"),
            default="5",
            enum=_durations(model),
        ),
        Param(
            "aspect_ratio",
            ParamType.STRING,
            mirror("aspect_ratio: 16:9 | 9:16 | 1:1; default 16:9"),
            default="16:9",
            enum=("16:9", "9:16", "1:1"),
        ),
        Param(
            "sound",
            ParamType.STRING,
            mirror("sound: on | off, default off; kling-v2-6, kling-v3 and kling-v3-omni only"),
            default="off",
            enum=("on", "off") if model in WITH_SOUND else ("off",),
        ),
        Param(
            "multi_shot",
            ParamType.BOOLEAN,
            mirror("multi_shot: boolean, default false; kling-v3 and kling-v3-omni only"),
            default=False,
            enum=(True, False) if model in MULTI_SHOT else (False,),
        ),
        Param(
            "shot_type",
            ParamType.STRING,
            mirror(
                "shot_type: customize | intelligence (sources disagree on the second word; both accepted)"
            ),
            enum=("customize", "intelligence"),
        ),
        Param(
            "multi_prompt",
            ParamType.ARRAY,
            mirror("multi_prompt: 1-6 shots when shot_type is customize"),
            max_items=6,
            items=_shot(),
        ),
        Param(
            "watermark_info",
            ParamType.OBJECT,
            mirror("watermark_info: {enabled: boolean}"),
            properties=(Param("enabled", ParamType.BOOLEAN, mirror("watermark_info.enabled")),),
        ),
        Param(
            "callback_url", ParamType.STRING, mirror("callback_url: the task's status change notifications")
        ),
        Param(
            "external_task_id",
            ParamType.STRING,
            mirror("external_task_id: customized task ID, unique within a single user account"),
            min_length=1,
        ),
    )


def _elements(limit: int) -> Param:
    return Param(
        "element_list",
        ParamType.ARRAY,
        mirror(f"element_list: up to {limit} elements {{element_id}}"),
        max_items=limit,
        items=Param(
            "element_list[]",
            ParamType.OBJECT,
            mirror("element_list[].element_id: integer"),
            properties=(Param("element_id", ParamType.INTEGER, mirror("element_id"), required=True),),
        ),
    )


def _kind_params(kind: str) -> tuple[Param, ...]:
    if kind == "text2video":
        return (_cfg(),)
    if kind == "image2video":
        return (
            Param(
                "image",
                ParamType.STRING,
                mirror("image: URL or raw Base64 (no data: prefix); required"),
                required=True,
                min_length=1,
                format="image-url-or-raw-base64",
            ),
            Param(
                "image_tail",
                ParamType.STRING,
                mirror("image_tail: end frame, URL or raw Base64"),
                format="image-url-or-raw-base64",
            ),
            _cfg(),
            _elements(3),
        )
    return (
        Param(
            "image_list",
            ParamType.ARRAY,
            public(OMNI_PAGE, "image_list: up to 7 images {image_url, type: first_frame | end_frame}"),
            max_items=7,
            items=Param(
                "image_list[]",
                ParamType.OBJECT,
                public(OMNI_PAGE, "image_list[]"),
                properties=(
                    Param("image_url", ParamType.STRING, public(OMNI_PAGE, "image_url"), required=True),
                    Param(
                        "type",
                        ParamType.STRING,
                        public(OMNI_PAGE, "type: first_frame | end_frame"),
                        enum=("first_frame", "end_frame"),
                    ),
                ),
            ),
        ),
        Param(
            "video_list",
            ParamType.ARRAY,
            public(OMNI_PAGE, "video_list: at most 1 video {video_url, refer_type, keep_original_sound}"),
            max_items=1,
            items=Param(
                "video_list[]",
                ParamType.OBJECT,
                public(OMNI_PAGE, "video_list[]"),
                properties=(
                    Param(
                        "video_url",
                        ParamType.STRING,
                        public(OMNI_PAGE, "video_url: 3-10 s"),
                        required=True,
                        format="video-url",
                    ),
                    Param(
                        "refer_type",
                        ParamType.STRING,
                        public(OMNI_PAGE, "refer_type: feature | base"),
                        enum=("feature", "base"),
                    ),
                    Param(
                        "keep_original_sound",
                        ParamType.STRING,
                        public(OMNI_PAGE, "keep_original_sound: yes | no"),
                        enum=("yes", "no"),
                    ),
                ),
            ),
        ),
        _elements(7),
    )


def _cfg() -> Param:
    return Param(
        "cfg_scale",
        ParamType.NUMBER,
        mirror("cfg_scale: 0-1, default 0.5; kling-v2.x models ignore it"),
        default=0.5,
        minimum=0,
        maximum=1,
    )


def _rules(kind: str) -> tuple[Rule, ...]:
    rules: list[Rule] = [
        RequiredWhen(
            ("shot_type",),
            When("multi_shot", values=(True,)),
            "1201",
            mirror("shot_type: required when multi_shot is true"),
            message="shot_type is required when multi_shot is true",
        ),
        RequiredWhen(
            ("multi_prompt",),
            When("shot_type", values=("customize",)),
            "1201",
            mirror("multi_prompt: required when shot_type is customize (1-6 shots)"),
            message="multi_prompt needs 1 to 6 shots when shot_type is customize",
        ),
    ]
    if kind != "image2video":  # an image2video prompt is optional: the image carries the scene
        rules.insert(
            0,
            RequiredWhen(
                ("prompt",),
                When("multi_shot", values=(False,)),
                "1201",
                mirror("prompt: required unless multi_shot is true"),
                message="prompt is required unless multi_shot is true",
            ),
        )
    return tuple(rules)


def _silent_with_video(facts: Facts) -> tuple[str, str] | None:
    if facts.get("video_list") and facts.get("sound") == "on":
        return "sound must be off when video_list holds a video", "sound"
    return None


WITH_VIDEO = When("video_list", present=True)
CUSTOM_SHOTS = (When("multi_shot", values=(True,)), When("shot_type", values=("customize",)))


def _constraints(kind: str) -> tuple[Constraint, ...]:
    found: list[Constraint] = [
        Total(
            "kling.shots-sum",
            "1201",
            mirror("multi_prompt: the sum of the shots' durations equals the task's duration"),
            "the shots last {total} s in all; duration is {target}",
            when=CUSTOM_SHOTS,
            path="multi_prompt",
            field="duration",
            equals="duration",
        )
    ]
    if kind == "omni-video":
        found += [
            Count(
                "kling.omni-images-with-video",
                "1201",
                public(OMNI_PAGE, "image_list: at most 4 images when a video is given"),
                "image_list holds {count} images; at most {limit} with a video",
                when=(WITH_VIDEO,),
                path="image_list",
                maximum=4,
            ),
            Check(
                "kling.omni-sound-off-with-video",
                "1201",
                public(OMNI_PAGE, "sound: only off when video_list holds a video"),
                "sound must be off when video_list holds a video",
                test=_silent_with_video,
            ),
            ProbedRange(
                "kling.omni-reference-video-length",
                "1201",
                public(OMNI_PAGE, "video_url: 3-10 s"),
                "video_list[{index}].video_url lasts {value:.1f} s; a reference video lasts 3 to 10 s",
                path="video_list[].video_url",
                minimum=3,
                maximum=10,
            ),
        ]
    return tuple(found)


def variants(kind: str) -> tuple[Variant, ...]:
    """One variant per model accepted on the create path `kind`, the default model first."""
    return tuple(
        Variant(
            model,
            (*_common(kind, model), *_kind_params(kind)),
            mirror(f"{kind}: {model}"),
            _rules(kind),
            constraints=_constraints(kind),
        )
        for model in KINDS[kind]
    )


UNITS = "the official pages sell prepaid resource packs in units and publish no per-second table"
RATES = (
    Rate({"tier": "master"}, inferred(f"{UNITS}; kling-v2 masters cost 1 unit/s"), per_second=Decimal(1)),
    Rate(
        {"mode": "std", "sound": "on"},
        inferred(f"{UNITS}; std 0.2/s x 1.5 with sound"),
        per_second=Decimal("0.3"),
    ),
    Rate(
        {"mode": "pro", "sound": "on"},
        inferred(f"{UNITS}; pro 0.35/s x 1.5 with sound"),
        per_second=Decimal("0.525"),
    ),
    Rate({"mode": "std"}, inferred(f"{UNITS}; std 0.2 units/s"), per_second=Decimal("0.2")),
    Rate({"mode": "pro"}, inferred(f"{UNITS}; pro 0.35 units/s"), per_second=Decimal("0.35")),
)
