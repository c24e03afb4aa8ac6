"""Unit tests for klingsim.core.media: real MP4 rendering, caching, CDN range serving, image checks."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from fractions import Fraction

import av
import pytest

from klingsim.core import media
from klingsim.core.media import (
    HttpAnswer,
    MediaCache,
    MediaError,
    MediaFile,
    MediaSpec,
    decode_base64_image,
    decode_image,
    frame_size,
    probe,
    render_mp4,
    serve_media,
)

# A 1x1 PNG, written independently of PyAV so decoding is checked against a file we did not produce.
ONE_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAAAAAAAAAQCEeRdzAAAADElEQVR4"
    "nGNsaGgAAAMIAYKGLCvCAAAAAElFTkSuQmCC"
)


def _still(codec: str, pix_fmt: str, width: int, height: int) -> bytes:
    """Encode one flat frame as a still image with PyAV (png, mjpeg, libwebp...)."""
    ctx = av.CodecContext.create(codec, "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = width, height, pix_fmt, Fraction(1, 25)
    frame = av.VideoFrame(width, height, pix_fmt)
    for plane in frame.planes:
        plane.update(b"\x80" * plane.buffer_size)
    return b"".join(bytes(p) for p in [*ctx.encode(frame), *ctx.encode(None)])


# ---------------------------------------------------------------- frame sizes


@pytest.mark.parametrize(
    ("aspect", "lines", "size"),
    [
        ("16:9", 720, (1280, 720)),
        ("9:16", 720, (720, 1280)),
        ("1:1", 720, (720, 720)),
        ("16:9", 1080, (1920, 1080)),
        ("9:16", 1080, (1080, 1920)),
        ("1:1", 1080, (1080, 1080)),
        ("16:9", 2160, (3840, 2160)),
        ("9:16", 2160, (2160, 3840)),
        ("1:1", 2160, (2160, 2160)),
    ],
)
def test_frame_size(aspect: str, lines: int, size: tuple[int, int]) -> None:
    assert frame_size(aspect, lines) == size


@pytest.mark.parametrize(("aspect", "lines"), [("4:3", 720), ("16:9", 480), ("", 1080), ("16:9", 0)])
def test_frame_size_rejects_unknown(aspect: str, lines: int) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        frame_size(aspect, lines)


# ---------------------------------------------------------------- rendering

RENDER_TABLE = [
    ("16:9", 720, 5, False),
    ("16:9", 720, 15, True),
    ("9:16", 720, 3, True),
    ("1:1", 720, 5, False),
    ("16:9", 1080, 5, True),
    ("9:16", 1080, 3, False),
    ("1:1", 1080, 15, True),
    ("16:9", 720, 7.5, True),  # multi-shot totals need not be whole seconds
    ("16:9", 2160, 3, False),
]


@pytest.mark.parametrize(("aspect", "lines", "seconds", "audio"), RENDER_TABLE)
def test_render_is_a_real_mp4(aspect: str, lines: int, seconds: float, audio: bool) -> None:
    width, height = frame_size(aspect, lines)
    data = render_mp4(MediaSpec(width, height, seconds, audio))

    assert data[4:8] == b"ftyp"
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: index before payload
    with av.open(io.BytesIO(data), "r") as container:
        assert container.duration is not None
        assert abs(container.duration / av.time_base - seconds) <= 0.1
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (width, height)
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert video.average_rate == 24
        assert video.frames == round(seconds * 24)
        assert len(container.streams.audio) == (1 if audio else 0)
        if audio:
            sound = container.streams.audio[0]
            assert sound.codec_context.name == "aac"
            assert sound.codec_context.sample_rate == 48_000
            assert sound.codec_context.channels == 2

    info = probe(data)
    assert abs(info.duration - seconds) <= 0.1
    assert (info.width, info.height, info.has_audio) == (width, height, audio)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac" if audio else None)


def test_render_decodes_fully_and_moves() -> None:
    data = render_mp4(MediaSpec(640, 360, 2, True))
    with av.open(io.BytesIO(data), "r") as container:
        lumas = [bytes(frame.planes[0]) for frame in container.decode(video=0)]
    with av.open(io.BytesIO(data), "r") as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert len(lumas) == 48
    assert lumas[0] != lumas[24] != lumas[-1]  # visible motion, not a frozen frame
    assert samples >= 2 * 48_000


@pytest.mark.parametrize(("width", "height"), [(64, 720), (720, 64), (2, 2)])
def test_render_odd_shapes(width: int, height: int) -> None:
    info = probe(render_mp4(MediaSpec(width, height, 0.5, False)))
    assert (info.width, info.height) == (width, height)


def test_render_is_deterministic() -> None:
    spec = MediaSpec(320, 240, 1, True)
    assert render_mp4(spec) == render_mp4(spec)


@pytest.mark.parametrize(
    "spec", [MediaSpec(321, 240, 1, False), MediaSpec(0, 240, 1, False), MediaSpec(320, 240, 0, False)]
)
def test_render_rejects_bad_specs(spec: MediaSpec) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        render_mp4(spec)


@pytest.mark.parametrize("data", [b"", b"garbage" * 100, base64.b64decode(ONE_PIXEL_PNG)])
def test_probe_rejects_non_video(data: bytes) -> None:
    with pytest.raises(MediaError):
        probe(data)


def test_probe_rejects_truncated_video() -> None:
    data = render_mp4(MediaSpec(320, 240, 1, False))
    with pytest.raises(MediaError):
        probe(data[: len(data) // 20])


# ---------------------------------------------------------------- cache


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[MediaSpec]:
    """Replace the encoder with a counter producing spec.width bytes, so sizes are under test control."""
    calls: list[MediaSpec] = []

    def fake(spec: MediaSpec) -> bytes:
        calls.append(spec)
        return bytes([len(calls) % 256]) * spec.width

    monkeypatch.setattr(media, "render_mp4", fake)
    return calls


def test_cache_renders_once_and_returns_same_object(renders: list[MediaSpec]) -> None:
    cache = MediaCache()
    spec = MediaSpec(100, 2, 5, True)
    first = cache.get(spec)
    assert cache.get(spec) is first
    assert cache.get(MediaSpec(100, 2, 5, True)) is first  # equal spec, new object
    assert renders == [spec]
    assert len(cache) == 1
    assert first.content_type == "video/mp4"
    assert first.etag == f'"{hashlib.sha256(first.data).hexdigest()[:32]}"'


def test_cache_keys_on_every_field(renders: list[MediaSpec]) -> None:
    cache = MediaCache()
    specs = [MediaSpec(100, 2, 5, True), MediaSpec(100, 2, 5, False), MediaSpec(100, 2, 15, True)]
    files = [cache.get(spec) for spec in specs]
    assert len(renders) == 3
    assert len(cache) == 3
    assert len({f.etag for f in files}) == 3


def test_cache_evicts_least_recently_used_by_bytes(renders: list[MediaSpec]) -> None:
    cache = MediaCache(max_bytes=250)
    a, b, c = (MediaSpec(100, 2, s, False) for s in (1, 2, 3))
    cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recently used
    cache.get(c)  # 300 bytes > 250: b goes
    assert len(cache) == 2
    assert len(renders) == 3
    cache.get(a)
    cache.get(c)
    assert len(renders) == 3
    cache.get(b)
    assert renders[-1] == b


def test_cache_serves_but_does_not_keep_oversized_files(renders: list[MediaSpec]) -> None:
    cache = MediaCache(max_bytes=50)
    assert len(cache.get(MediaSpec(100, 2, 1, False)).data) == 100
    assert len(cache) == 0


def test_cache_concurrent_first_requests_render_once(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[MediaSpec] = []

    def slow(spec: MediaSpec) -> bytes:
        calls.append(spec)
        started.set()
        assert release.wait(timeout=10)
        return b"x" * 10

    monkeypatch.setattr(media, "render_mp4", slow)
    cache = MediaCache()
    spec = MediaSpec(10, 2, 1, False)
    results: list[MediaFile] = []
    gate = threading.Barrier(9)

    def worker() -> None:
        gate.wait(timeout=10)
        results.append(cache.get(spec))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    gate.wait(timeout=10)
    assert started.wait(timeout=10)
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert len(calls) == 1
    assert len(results) == 8
    assert all(r is results[0] for r in results)


def test_cache_failed_render_propagates_and_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[MediaSpec] = []

    def flaky(spec: MediaSpec) -> bytes:
        calls.append(spec)
        if len(calls) == 1:
            raise RuntimeError("encoder exploded")
        return b"ok"

    monkeypatch.setattr(media, "render_mp4", flaky)
    cache = MediaCache()
    spec = MediaSpec(10, 2, 1, False)
    with pytest.raises(RuntimeError, match="exploded"):
        cache.get(spec)
    assert len(cache) == 0
    assert cache.get(spec).data == b"ok"


# ---------------------------------------------------------------- serving

DATA = bytes(range(256)) * 4  # 1024 bytes
FILE = MediaFile(DATA, '"abc123"')


def _h(answer: HttpAnswer) -> dict[str, str]:
    headers = dict(answer.headers)
    assert len(headers) == len(answer.headers), "duplicate header"
    return headers


def test_get_full() -> None:
    answer = serve_media("GET", FILE, None, None)
    headers = _h(answer)
    assert answer.status == 200
    assert answer.body == DATA
    assert headers["Content-Length"] == str(len(answer.body)) == "1024"
    assert headers["Content-Type"] == "video/mp4"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"] == '"abc123"'
    assert "Content-Range" not in headers


def test_head_has_get_headers_and_no_body() -> None:
    head = serve_media("HEAD", FILE, None, None)
    assert head.status == 200
    assert head.body == b""
    assert head.headers == serve_media("GET", FILE, None, None).headers


@pytest.mark.parametrize("tag", ['"abc123"', '"zzz", "abc123"', 'W/"abc123"', "*", ' "abc123" '])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_none_match_gives_304(tag: str, method: str) -> None:
    answer = serve_media(method, FILE, "bytes=0-10", tag)
    assert answer.status == 304
    assert answer.body == b""
    assert _h(answer)["ETag"] == '"abc123"'


def test_if_none_match_other_tag_gives_200() -> None:
    assert serve_media("GET", FILE, None, '"other"').status == 200


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1000-99999", 1000, 1023),  # last-pos past the end is clamped
        ("bytes=-99999", 0, 1023),  # suffix longer than the file means the whole file
        ("bytes=5-5", 5, 5),
        ("Bytes = 10 - 19", 10, 19),
    ],
)
def test_single_range_gives_206(header: str, first: int, last: int) -> None:
    answer = serve_media("GET", FILE, header, None)
    headers = _h(answer)
    assert answer.status == 206
    assert answer.body == DATA[first : last + 1]
    assert headers["Content-Length"] == str(len(answer.body))
    assert headers["Content-Range"] == f"bytes {first}-{last}/1024"
    assert headers["Content-Type"] == "video/mp4"
    assert headers["ETag"] == '"abc123"'


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_gives_416(header: str) -> None:
    answer = serve_media("GET", FILE, header, None)
    assert answer.status == 416
    assert answer.body == b""
    assert _h(answer)["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "items=0-5",
        "bytes=0-5,10-20",
        "bytes=5-1",
        "bytes=2000-1000",
        "bytes=",
        "bytes=-",
        "bytes 0-5",
        "0-5",
        "bytes=+1-2",
    ],
)
def test_malformed_or_multiple_ranges_are_ignored(header: str) -> None:
    answer = serve_media("GET", FILE, header, None)
    assert answer.status == 200
    assert answer.body == DATA
    assert _h(answer)["Content-Length"] == "1024"


@pytest.mark.parametrize("if_range", ['"stale"', 'W/"abc123"', "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_if_range_mismatch_ignores_range(if_range: str) -> None:
    answer = serve_media("GET", FILE, "bytes=0-9", None, if_range)
    assert answer.status == 200
    assert answer.body == DATA


def test_if_range_match_honours_range() -> None:
    answer = serve_media("GET", FILE, "bytes=0-9", None, '"abc123"')
    assert answer.status == 206
    assert answer.body == DATA[:10]


def test_head_ignores_range() -> None:
    answer = serve_media("HEAD", FILE, "bytes=0-9", None)
    assert answer.status == 200
    assert answer.body == b""
    assert _h(answer)["Content-Length"] == "1024"


# ---------------------------------------------------------------- images


def test_decode_hard_coded_png() -> None:
    assert decode_base64_image(ONE_PIXEL_PNG) == media.ImageInfo(1, 1, "png")


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "fmt"),
    [("png", "rgb24", "png"), ("mjpeg", "yuvj420p", "jpeg"), ("libwebp", "yuv420p", "webp")],
)
def test_decode_encoded_images(codec: str, pix_fmt: str, fmt: str) -> None:
    data = _still(codec, pix_fmt, 34, 18)
    assert decode_image(data) == media.ImageInfo(34, 18, fmt)
    assert decode_base64_image(base64.b64encode(data).decode()) == media.ImageInfo(34, 18, fmt)


def test_decode_data_url_and_wrapped_base64() -> None:
    data = _still("png", "rgb24", 8, 6)
    encoded = base64.b64encode(data).decode()
    assert decode_base64_image(f"data:image/png;base64,{encoded}").width == 8
    wrapped = "\n".join(encoded[i : i + 20] for i in range(0, len(encoded), 20))
    assert decode_base64_image(wrapped).height == 6


@pytest.mark.parametrize("value", ["not base64 at all!!", "@@@@", "a", "data:image/png;base64,%%%%"])
def test_garbage_base64_is_rejected(value: str) -> None:
    with pytest.raises(MediaError, match="image is not valid base64"):
        decode_base64_image(value)


def test_base64_of_non_image_is_rejected() -> None:
    with pytest.raises(MediaError, match="image does not decode as an image"):
        decode_base64_image(base64.b64encode(b"hello, this is plain text and not a picture").decode())


@pytest.mark.parametrize("value", ["", "   ", "data:image/png;base64,"])
def test_empty_image_is_rejected(value: str) -> None:
    with pytest.raises(MediaError, match="empty"):
        decode_base64_image(value)


def test_non_base64_data_url_is_rejected() -> None:
    with pytest.raises(MediaError, match="base64"):
        decode_base64_image("data:image/png,rawbytes")


def test_oversized_image_is_rejected_before_decoding() -> None:
    with pytest.raises(MediaError, match="exceeds 10 MiB"):
        decode_base64_image("A" * (15 * 1024 * 1024))
    with pytest.raises(MediaError, match="exceeds 10 MiB"):
        decode_image(b"\0" * (media.MAX_IMAGE_BYTES + 1))


def test_truncated_image_and_video_are_not_images() -> None:
    png = _still("png", "rgb24", 16, 16)
    with pytest.raises(MediaError):
        decode_image(png[: len(png) // 2])
    with pytest.raises(MediaError):
        decode_image(render_mp4(MediaSpec(64, 64, 0.5, False)))
