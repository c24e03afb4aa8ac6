"""The seed providers' rules between fields are declared constraints: each has a unique id, an error of the
provider's catalogue and a citation, and `evaluate` names it when a body breaks it (with the same message
and parameter the simulator answers)."""

from __future__ import annotations

from typing import Any

import pytest

from klingsim.core.evaluate import constraints, evaluate
from klingsim.providers import ALL, by_id

SHOTS = [{"index": 1, "prompt": "a", "duration": "2"}, {"index": 2, "prompt": "b", "duration": "2"}]
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "a | b | c | d | e | f | g"},
        "empiriolabs.scenes-at-most",
        "prompt has 7 scenes; at most 6 are allowed",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": " | "},
        "empiriolabs.scenes-at-least-one",
        "prompt must contain at least one scene",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "10s: a | 9s: b"},
        "empiriolabs.scenes-total",
        "the scenes last 19 s in total; at most 15 s",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "0.5s: a | b"},
        "empiriolabs.scene-seconds",
        "scene 1 lasts 0.5 s; each scene needs at least 1 s",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "a", "reference_images": "x,,y"},
        "empiriolabs.reference_images-no-empty-item",
        "reference_images has an empty item; send comma-separated URLs",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "a", "reference_videos": "x,y"},
        "empiriolabs.reference_videos-count",
        "reference_videos has 2 items; at most 1 are allowed",
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "a", "image_end": "https://e.com/x.png"},
        "empiriolabs.image-end-needs-image",
        "image_end is the last frame of an image-to-video job; send image too",
    ),
    (
        "evolink",
        {"model": "kling-o3-text-to-video"},
        "evolink.prompt-unless-multi-shot",
        "prompt is required unless model_params.multi_shot=true and shot_type=customize",
    ),
    (
        "evolink",
        {
            "model": "kling-o3-text-to-video",
            "model_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": SHOTS},
        },
        "evolink.shots-sum",
        "the durations of model_params.multi_prompt add up to 4 s; they must equal duration (5 s)",
    ),
    (
        "evolink",
        {"model": "kling-o3-text-to-video", "model_params": {"multi_shot": True, "multi_prompt": SHOTS}},
        "evolink.shot-type-with-multi-shot",
        "model_params.shot_type is required when multi_shot is true",
    ),
    (
        "evolink",
        {
            "model": "kling-o3-text-to-video",
            "model_params": {
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": [{"index": 1, "prompt": "a", "duration": "x"}],
            },
        },
        "evolink.shot-duration",
        'model_params.multi_prompt[0].duration must be a whole number of seconds, as a string like "5"',
    ),
    (
        "evolink",
        {
            "model": "kling-o3-video-edit",
            "prompt": "a",
            "video_url": "https://e.com/v.mp4",
            "image_urls": ["https://e.com/1.png"] * 3,
            "model_params": {"element_list": [{"element_id": 1}, {"element_id": 2}]},
        },
        "evolink.images-elements",
        "image_urls (3) + element_list (2) must be at most 4 when a video is given",
    ),
    (
        "evolink",
        {
            "model": "kling-o3-image-to-video",
            "prompt": "a",
            "image_end": "https://e.com/1.png",
            "image_urls": ["https://e.com/2.png"],
        },
        "evolink.image-end-needs-start",
        "image_end requires image_start (a last frame requires a first frame)",
    ),
    (
        "evolink",
        {"model": "kling-o3-text-to-video", "prompt": "use <<<element_1>>>"},
        "evolink.prompt-references",
        "prompt refers to <<<element_1>>>, but the request has 0 element(s) to refer to",
    ),
    (
        "prospolabs",
        {
            "model": "kling-o3",
            "prompt": "a",
            "multi_prompt": [{"prompt": "a", "duration": 10}, {"prompt": "b", "duration": 10}],
        },
        "prospolabs.shots-total",
        "multi_prompt shots add up to 20 s; the total must be 3–15 s",
    ),
    (
        "prospolabs",
        {"model": "kling-o3", "params": 5},
        "prospolabs.params-object",
        "params must be an object",
    ),
    (
        "prospolabs",
        {"model": "kling-o3", "prompt": "a", "multi_prompt": "not json"},
        "prospolabs.multi-prompt-json",
        "multi_prompt must be a list of shots (or a JSON string of one)",
    ),
    (
        "kling3api",
        {"type": "pro-image-to-video", "prompt": "a"},
        "required-when:type=*-image-to-video:image",
        "",
    ),
]


@pytest.mark.parametrize(("provider", "body", "constraint", "message"), CASES, ids=[c[2] for c in CASES])
def test_evaluate_names_each_declared_rule(
    provider: str, body: dict[str, Any], constraint: str, message: str
) -> None:
    found = evaluate(by_id(provider), body)
    assert found.constraint == constraint
    assert found.violation is not None and found.violation.message == message


def test_ids_are_unique_and_errors_and_citations_declared() -> None:
    for spec in ALL:
        infos = list(constraints(spec))
        codes = {e.code for e in spec.errors}
        per_variant = [(c.operation, c.variant, c.id) for c in infos]
        assert len(per_variant) == len(set(per_variant)), spec.id
        for info in infos:
            assert info.error in codes, (spec.id, info.id)
            assert info.doc.cite(), (spec.id, info.id)


def test_the_rules_once_hidden_in_hooks_are_in_the_catalogue() -> None:
    ids = {c.id for spec in ALL for c in constraints(spec)}
    assert {
        "empiriolabs.scenes-at-most",
        "empiriolabs.scene-seconds",
        "evolink.shots-sum",
        "evolink.images-elements",
        "prospolabs.shots-total",
    } <= ids


def test_valid_bodies_evaluate_to_a_plan_and_price() -> None:
    ok = evaluate(by_id("empiriolabs"), {"model": "kling-o3", "prompt": "5s: a | 5s: b"})
    assert ok.ok and ok.plan is not None and ok.plan.billed_seconds == 10.0 and str(ok.price) == "2.8000"


def test_every_spec_is_consistent() -> None:
    from klingsim.core.speccheck import problems
    from tests.unit.tiny_spec import SPEC as TINY

    for spec in (*ALL, TINY):
        assert problems(spec) == [], spec.id


def test_spec_mistakes_are_named() -> None:
    import dataclasses

    from klingsim.core.speccheck import problems
    from klingsim.spec import Action, ErrorRole

    spec = by_id("kling3api")
    status = dataclasses.replace(spec.operations(Action.STATUS)[0], jobs_of=("nope",), errors=("GONE",))
    broken = dataclasses.replace(
        spec,
        endpoints=(spec.endpoints[0], status),
        roles={k: v for k, v in spec.roles.items() if k is not ErrorRole.NOT_FOUND},
    )
    assert problems(broken) == [
        "status.errors: no error 'GONE' in the catalogue",
        "roles: no error for not_found",
        "status: jobs_of names no create 'nope'",
    ]
