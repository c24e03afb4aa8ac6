"""EvoLink's documented rules between fields, which a single Param can't express."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from klingsim.providers._evolink_models import EDIT, I2V, INVALID, REF, T2V
from klingsim.spec import Violation

_REFERENCE = re.compile(r"<<<(element|image|video)_(\d+)>>>")


def _bad(message: str, param: str) -> Violation:
    return Violation(INVALID, message, param=param)


def _multi_shot(model: str, body: Mapping[str, Any]) -> None:
    params: Mapping[str, Any] = body.get("model_params") or {}
    multi = params.get("multi_shot") is True
    if not multi:
        # "Only effective when multi_shot=true" (seed): shot_type and multi_prompt are ignored otherwise.
        if not str(body.get("prompt") or "").strip():
            raise _bad(
                "prompt is required unless model_params.multi_shot=true and shot_type=customize", "prompt"
            )
        return
    if params.get("shot_type") is None:
        raise _bad("model_params.shot_type is required when multi_shot is true", "model_params.shot_type")
    shots: list[dict[str, Any]] = params.get("multi_prompt") or []
    if not shots:
        raise _bad(
            "model_params.multi_prompt is required when multi_shot=true and shot_type=customize",
            "model_params.multi_prompt",
        )
    total = 0
    for i, shot in enumerate(shots):
        seconds = shot["duration"]
        if not (seconds.isascii() and seconds.isdigit()) or int(seconds) < 1:
            raise _bad(
                f"model_params.multi_prompt[{i}].duration must be a whole number of seconds, as a string "
                f'like "5"',
                f"model_params.multi_prompt[{i}].duration",
            )
        total += int(seconds)
    # Video edit has no duration (it follows the source), so only the other models can check the sum.
    if model != EDIT and total != body["duration"]:
        raise _bad(
            f"the durations of model_params.multi_prompt add up to {total} s; they must equal "
            f"duration ({body['duration']} s)",
            "model_params.multi_prompt",
        )


def _references(model: str, body: Mapping[str, Any]) -> None:
    params: Mapping[str, Any] = body.get("model_params") or {}
    available = {
        "element": len(params.get("element_list") or []),
        "image": len(body.get("image_urls") or []) if model != T2V else 0,
        "video": 1 if model in (REF, EDIT) and body.get("video_url") else 0,
    }
    texts = [("prompt", body.get("prompt") or "")]
    texts += [
        (f"model_params.multi_prompt[{i}].prompt", s["prompt"])
        for i, s in enumerate(params.get("multi_prompt") or [])
    ]
    for where, text in texts:
        for found in _REFERENCE.finditer(text):
            kind, n = found.group(1), int(found.group(2))
            if not 1 <= n <= available[kind]:
                raise _bad(
                    f"{where} refers to {found.group(0)}, but the request has {available[kind]} "
                    f"{kind}(s) to refer to",
                    where,
                )


def _images(model: str, body: Mapping[str, Any]) -> None:
    params: Mapping[str, Any] = body.get("model_params") or {}
    images = len(body.get("image_urls") or [])
    elements = len(params.get("element_list") or [])
    if model == I2V and body.get("image_end"):
        if not body.get("image_start"):
            raise _bad("image_end requires image_start (a last frame requires a first frame)", "image_end")
        if 2 + images > 2:  # first frame + last frame + reference images
            raise _bad(
                f"image_end is not supported when the total image count exceeds 2 (it is {2 + images})",
                "image_end",
            )
    if model in (REF, EDIT) and body.get("video_url") and images + elements > 4:
        raise _bad(
            f"image_urls ({images}) + element_list ({elements}) must be at most 4 when a video is given",
            "image_urls",
        )


def check_request(model: str, body: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
    """The documented rules between fields that a single Param can't express; raises a Violation."""
    _multi_shot(model, body)
    _images(model, body)
    if settings["reject_unknown_references"]:
        _references(model, body)
