"""Every range, enum and list limit of the official Kling API at its edges (400/1201 outside, 200 inside)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kling_auth import kling_headers
from tests.support import SimClient

OK = (200, 0)
BAD = (400, 1201)
T2V = "/v1/videos/text2video"
I2V = "/v1/videos/image2video"
OMNI = "/v1/videos/omni-video"
IMAGE = "https://example.com/a.jpg"
RAW_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def create(path: str, body: dict[str, Any]) -> tuple[int, int]:
    response = SimClient().post("/kling" + path, headers=kling_headers(), json=body)
    return response.status_code, response.json()["code"]


FIVE_OR_TEN = [
    "kling-v1",
    "kling-v1-6",
    "kling-v2-master",
    "kling-v2-1-master",
    "kling-v2-5-turbo",
    "kling-v2-6",
]


@pytest.mark.parametrize("model", FIVE_OR_TEN)
@pytest.mark.parametrize(
    ("duration", "expected"), [("5", OK), ("10", OK), ("3", BAD), ("15", BAD), ("7", BAD)]
)
def test_older_models_take_five_or_ten_seconds(model: str, duration: str, expected: tuple[int, int]) -> None:
    assert create(T2V, {"model_name": model, "prompt": "x", "duration": duration}) == expected


@pytest.mark.parametrize(("duration", "expected"), [("2", BAD), ("3", OK), ("15", OK), ("16", BAD)])
@pytest.mark.parametrize(("path", "model"), [(T2V, "kling-v3"), (OMNI, "kling-v3-omni")])
def test_v3_models_take_three_to_fifteen_seconds(
    path: str, model: str, duration: str, expected: tuple[int, int]
) -> None:
    assert create(path, {"model_name": model, "prompt": "x", "duration": duration}) == expected


@pytest.mark.parametrize(("duration", "expected"), [("5", OK), ("10", OK), ("3", BAD), ("15", BAD)])
def test_omni_o1_takes_five_or_ten_seconds(duration: str, expected: tuple[int, int]) -> None:
    assert create(OMNI, {"model_name": "kling-video-o1", "prompt": "x", "duration": duration}) == expected


@pytest.mark.parametrize("duration", [5, 10, 5.0, "five", "5.0", None])
def test_duration_must_be_a_string_of_whole_seconds(duration: Any) -> None:
    assert create(T2V, {"prompt": "x", "duration": duration}) == BAD


@pytest.mark.parametrize(("length", "expected"), [(1, OK), (2500, OK), (2501, BAD)])
def test_prompt_length(length: int, expected: tuple[int, int]) -> None:
    assert create(T2V, {"prompt": "é" * length}) == expected


@pytest.mark.parametrize(("length", "expected"), [(2500, OK), (2501, BAD)])
def test_negative_prompt_length(length: int, expected: tuple[int, int]) -> None:
    assert create(T2V, {"prompt": "x", "negative_prompt": "n" * length}) == expected


@pytest.mark.parametrize(("cfg", "expected"), [(-0.01, BAD), (0, OK), (1, OK), (1.01, BAD)])
def test_cfg_scale_range(cfg: float, expected: tuple[int, int]) -> None:
    assert create(T2V, {"prompt": "x", "cfg_scale": cfg}) == expected


@pytest.mark.parametrize(("field", "value"), [("mode", "ultra"), ("aspect_ratio", "4:3"), ("sound", "yes")])
def test_enums_refuse_other_words(field: str, value: str) -> None:
    assert create(T2V, {"model_name": "kling-v2-6", "prompt": "x", field: value}) == BAD


@pytest.mark.parametrize(
    ("path", "model", "expected"),
    [
        (T2V, "kling-v1", BAD),
        (T2V, "kling-v2-5-turbo", BAD),
        (T2V, "kling-v2-6", OK),
        (T2V, "kling-v3", OK),
        (OMNI, "kling-video-o1", BAD),
        (OMNI, "kling-v3-omni", OK),
    ],
)
def test_sound_on_only_where_the_model_supports_it(path: str, model: str, expected: tuple[int, int]) -> None:
    assert create(path, {"model_name": model, "prompt": "x", "sound": "on"}) == expected
    assert create(path, {"model_name": model, "prompt": "x", "sound": "off"}) == OK


@pytest.mark.parametrize(("path", "model"), [(T2V, "kling-v3-omni"), (OMNI, "kling-v3"), (T2V, "kling-v9")])
def test_a_model_of_another_endpoint_or_unknown_is_1201(path: str, model: str) -> None:
    assert create(path, {"model_name": model, "prompt": "x"}) == BAD


def shots(*durations: str) -> list[dict[str, Any]]:
    return [{"index": i + 1, "prompt": f"shot {i}", "duration": d} for i, d in enumerate(durations)]


def multi(*durations: str, total: str | None = None, model: str = "kling-v3") -> dict[str, Any]:
    given = total if total is not None else str(sum(int(d) for d in durations))
    return {
        "model_name": model,
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": shots(*durations),
        "duration": given,
    }


@pytest.mark.parametrize(("count", "expected"), [(1, OK), (6, OK), (7, BAD)])
def test_multi_prompt_holds_one_to_six_shots(count: int, expected: tuple[int, int]) -> None:
    assert create(T2V, multi(*["2"] * (count - 1), "3")) == expected


def test_multi_prompt_needs_at_least_one_shot() -> None:
    assert create(T2V, {**multi("5"), "multi_prompt": []}) == BAD


def test_shot_durations_must_add_up_to_the_duration() -> None:
    assert create(T2V, multi("4", "6")) == OK
    assert create(T2V, multi("4", "6", total="9")) == BAD


def test_a_shot_lasts_at_least_one_second() -> None:
    assert create(T2V, multi("0", "5")) == BAD


@pytest.mark.parametrize(("length", "expected"), [(512, OK), (513, BAD)])
def test_a_shot_prompt_holds_512_characters(length: int, expected: tuple[int, int]) -> None:
    body = multi("5")
    body["multi_prompt"][0]["prompt"] = "p" * length
    assert create(T2V, body) == expected


def test_multi_shot_rules() -> None:
    assert create(T2V, {"model_name": "kling-v3", "multi_shot": True, "duration": "5"}) == BAD  # no shot_type
    assert create(T2V, {"model_name": "kling-v3", "multi_shot": True, "shot_type": "customize"}) == BAD
    assert (
        create(
            T2V, {"model_name": "kling-v3", "multi_shot": True, "shot_type": "intelligence", "prompt": "x"}
        )
        == OK
    )
    assert (
        create(T2V, {"model_name": "kling-v3", "multi_shot": True, "shot_type": "random", "prompt": "x"})
        == BAD
    )
    assert create(T2V, {**multi("5"), "model_name": "kling-v2-6"}) == BAD  # multi_shot is v3 only
    assert create(T2V, {"model_name": "kling-v3"}) == BAD  # prompt required without multi_shot


def images(n: int) -> list[dict[str, str]]:
    return [{"image_url": f"https://example.com/{i}.jpg"} for i in range(n)]


VIDEO = [{"video_url": "https://example.com/v.mp4", "refer_type": "base", "keep_original_sound": "yes"}]


@pytest.mark.parametrize(("count", "expected"), [(7, OK), (8, BAD)])
def test_omni_image_list_holds_seven(count: int, expected: tuple[int, int]) -> None:
    assert create(OMNI, {"prompt": "x", "image_list": images(count)}) == expected


@pytest.mark.parametrize(("count", "expected"), [(4, OK), (5, BAD)])
def test_omni_image_list_holds_four_with_a_video(count: int, expected: tuple[int, int]) -> None:
    assert create(OMNI, {"prompt": "x", "image_list": images(count), "video_list": VIDEO}) == expected


def test_omni_video_list_holds_one_with_documented_words() -> None:
    assert create(OMNI, {"prompt": "x", "video_list": VIDEO * 2}) == BAD
    assert create(OMNI, {"prompt": "x", "video_list": [{**VIDEO[0], "refer_type": "style"}]}) == BAD
    assert create(OMNI, {"prompt": "x", "video_list": [{**VIDEO[0], "keep_original_sound": True}]}) == BAD
    assert create(OMNI, {"prompt": "x", "image_list": [{"image_url": IMAGE, "type": "middle"}]}) == BAD


def test_omni_sound_must_be_off_with_a_video() -> None:
    body = {"model_name": "kling-v3-omni", "prompt": "x", "video_list": VIDEO}
    assert create(OMNI, {**body, "sound": "on"}) == BAD
    assert create(OMNI, {**body, "sound": "off"}) == OK


@pytest.mark.parametrize(("path", "limit"), [(I2V, 3), (OMNI, 7)])
def test_element_list_limits(path: str, limit: int) -> None:
    body: dict[str, Any] = {"prompt": "x", "image": IMAGE} if path == I2V else {"prompt": "x"}
    assert create(path, {**body, "element_list": [{"element_id": i} for i in range(limit)]}) == OK
    assert create(path, {**body, "element_list": [{"element_id": i} for i in range(limit + 1)]}) == BAD


def test_image2video_requires_an_image_url_or_raw_base64() -> None:
    assert create(I2V, {"prompt": "x"}) == BAD
    assert create(I2V, {"prompt": "x", "image": IMAGE}) == OK
    assert (
        create(
            I2V,
            {
                "prompt": "x",
                "image": RAW_PNG,
            },
        )
        == OK
    )
    assert create(I2V, {"prompt": "x", "image": "data:image/png;base64,iVBORw0KGgo="}) == BAD


def test_external_task_id_is_unique_per_account() -> None:
    client = SimClient()
    body = {"prompt": "x", "external_task_id": "mine-1"}
    assert client.post("/kling" + T2V, headers=kling_headers(), json=body).status_code == 200
    again = client.post("/kling" + T2V, headers=kling_headers(), json=body)
    assert (again.status_code, again.json()["code"]) == BAD
    other = kling_headers(access_key="AKanotheraccount0000000000000001")
    assert client.post("/kling" + T2V, headers=other, json=body).status_code == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pageNum": 0}, BAD),
        ({"pageNum": 1}, OK),
        ({"pageNum": 1000}, OK),
        ({"pageNum": 1001}, BAD),
        ({"pageSize": 0}, BAD),
        ({"pageSize": 500}, OK),
        ({"pageSize": 501}, BAD),
        ({"pageSize": "many"}, BAD),
    ],
)
def test_list_page_ranges(params: dict[str, Any], expected: tuple[int, int]) -> None:
    response = SimClient().get("/kling" + T2V, params=params, headers=kling_headers())
    assert (response.status_code, response.json()["code"]) == expected
