"""Real media for simulated outputs: H.264/AAC MP4 rendering, a render cache, CDN-style serving, probing.

Video: H.264 (libx264 preset ultrafast, tune stillimage, constant QP 23), yuv420p, 24 fps by default
(spec.fps), round(seconds * fps) frames. Frame sizes follow the aspect ratio and the line count:
16:9 -> 1280x720 / 1920x1080 / 3840x2160, 9:16 -> 720x1280 / 1080x1920 / 2160x3840,
1:1 -> 720x720 / 1080x1080 / 2160x2160. Each frame is a dark slate background with a progress bar
along the bottom that fills over the clip and a block sliding across the middle, so players show
motion while the encoder still skips almost every macroblock.
Audio (when requested): AAC-LC, 48 kHz stereo, a quiet 375 Hz sine (amplitude 0.05), trimmed by the
MP4 edit list to exactly spec.seconds.
Files are written with +faststart (moov before mdat) so players can start streaming at once.
"""

from __future__ import annotations

import array
import base64
import binascii
import hashlib
import io
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    # PyAV is imported where it is used: loading it costs a served simulator ~30-50 ms of start-up,
    # and most runs never render, probe or decode anything.
    import av
    from av.audio.stream import AudioStream
    from av.packet import Packet
    from av.stream import Stream
    from av.video.frame import VideoFrame

SAMPLE_RATE = 48_000
AAC_FRAME = 1024  # samples per AAC-LC frame
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 100_000_000  # a 10 MiB PNG can expand to gigabytes; refuse before decoding

_SIZES = {720: (1280, 720), 1080: (1920, 1080), 2160: (3840, 2160)}


class MediaError(ValueError):
    """Bytes that are not the media they claim to be."""


@dataclass(frozen=True, slots=True)
class MediaSpec:
    width: int
    height: int
    seconds: float
    audio: bool
    fps: int = 24


@dataclass(frozen=True, slots=True)
class MediaFile:
    data: bytes
    etag: str
    content_type: str = "video/mp4"


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class ProbeResult:
    duration: float
    width: int
    height: int
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    format: str


def frame_size(aspect_ratio: str, lines: int) -> tuple[int, int]:
    """(width, height) for an aspect ratio ("16:9", "9:16", "1:1") at 720, 1080 or 2160 lines."""
    if lines not in _SIZES:
        raise ValueError(f"unsupported resolution: {lines}")
    long, short = _SIZES[lines]
    sizes = {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}
    if aspect_ratio not in sizes:
        raise ValueError(f"unsupported aspect ratio: {aspect_ratio!r}")
    return sizes[aspect_ratio]


_BACKGROUND, _BAR, _BLOCK = (0x30, 0x90, 0x78), (0xE0, 0x40, 0xB0), (0xD0, 0x50, 0xA0)  # Y, U, V


def _paint(frame: VideoFrame, box: tuple[int, int, int, int], yuv: tuple[int, int, int]) -> None:
    """Paint box (left, top, right, bottom; even, right/bottom exclusive) of a yuv420p frame in place."""
    left, top, right, bottom = box
    for index, value in enumerate(yuv):
        shift = 1 if index else 0  # chroma planes are subsampled 2x2
        plane = frame.planes[index]
        buf, stride = memoryview(plane), plane.line_size
        x0, x1 = left >> shift, right >> shift
        run = bytes([value]) * (x1 - x0)
        for y in range(top >> shift, bottom >> shift):
            buf[y * stride + x0 : y * stride + x1] = run


def _video_frames(spec: MediaSpec) -> Iterator[VideoFrame]:
    """Yield every frame of the clip: one frame object, repainted only where it changed."""
    # Reusing one frame is safe because libx264 copies its input during encode; rebuilding whole
    # planes per frame in Python would cost more than encoding them.
    from av.video.frame import VideoFrame

    w, h = spec.width, spec.height
    frame = VideoFrame(w, h, "yuv420p")
    _paint(frame, (0, 0, w, h), _BACKGROUND)
    bar = max(2, (h // 30) & ~1)
    side = min(h // 6, w // 2) & ~1
    top = ((h - side) // 2) & ~1
    frames = max(1, round(spec.seconds * spec.fps))
    filled, block_x = 0, -1
    for i in range(frames):
        width = ((i + 1) * w // frames) & ~1  # progress bar: full at the last frame
        if width > filled:
            _paint(frame, (filled, h - 2 * bar, width, h - bar), _BAR)
            filled = width
        phase = (i % (4 * spec.fps)) / (2 * spec.fps)  # block slides there and back every 4 s
        x = int((w - side) * (phase if phase <= 1 else 2 - phase)) & ~1
        if x != block_x:
            if block_x >= 0:
                _paint(frame, (block_x, top, block_x + side, top + side), _BACKGROUND)
            _paint(frame, (x, top, x + side, top + side), _BLOCK)
            block_x = x
        frame.pts = i
        frame.time_base = Fraction(1, spec.fps)
        yield frame


def _audio_packets(stream: AudioStream, seconds: float) -> list[Packet[Stream]]:
    """AAC packets for a quiet tone lasting seconds, pts in 1/48000 s (the first is the priming frame)."""
    import av
    from av.packet import Packet

    total = max(1, round(seconds * SAMPLE_RATE))
    count = math.ceil(total / AAC_FRAME) + 1  # +1: the encoder's priming frame (pts -1024)
    # 375 Hz has a period of 128 samples, so every AAC frame sees the same input.
    tone = array.array("f", (0.05 * math.sin(2 * math.pi * k / 128) for k in range(AAC_FRAME))).tobytes()
    head: list[bytes] = []
    for n in range(min(8, count - 1)):
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=AAC_FRAME)
        for plane in frame.planes:
            plane.update(tone)
        frame.pts, frame.sample_rate, frame.time_base = n * AAC_FRAME, SAMPLE_RATE, Fraction(1, SAMPLE_RATE)
        head += (bytes(p) for p in stream.encode(frame))
    tail = [bytes(p) for p in stream.encode(None)]
    # The native AAC encoder is slow (~30 ms per second of audio). AAC-LC frames carry no inter-frame
    # prediction, so repeating one steady-state frame of a periodic tone is a valid, seamless stream.
    missing = count - len(head) - len(tail)
    steady = [head[-1]] * missing if missing > 0 else []
    packets = [Packet(payload) for payload in (head + steady + tail)[:count]]
    for k, packet in enumerate(packets):
        packet.stream = stream
        packet.time_base = Fraction(1, SAMPLE_RATE)
        packet.pts = packet.dts = (k - 1) * AAC_FRAME
        # The last frame only lasts until the requested duration, which sets the track length.
        packet.duration = AAC_FRAME if k < count - 1 else total - (count - 2) * AAC_FRAME
    return packets


def _write(out: av.container.OutputContainer, spec: MediaSpec) -> None:
    # Constant QP skips x264's per-frame lowres complexity analysis (CRF needs it): ~40% less CPU.
    x264 = {"preset": "ultrafast", "tune": "stillimage", "qp": "23"}
    video = out.add_stream("libx264", rate=spec.fps, options=x264)
    video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
    audio: list[Packet[Stream]] = []
    if spec.audio:
        stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio = _audio_packets(stream, spec.seconds)
    # Interleave audio with video by time so progressive playback needs no seeking between chunks.
    pending = iter(audio)
    packet = next(pending, None)
    for frame in _video_frames(spec):
        horizon = ((frame.pts or 0) + 1) * SAMPLE_RATE // spec.fps
        while packet is not None and packet.pts is not None and packet.pts < horizon:
            out.mux(packet)
            packet = next(pending, None)
        out.mux(video.encode(frame))
    out.mux(video.encode(None))
    while packet is not None:
        out.mux(packet)
        packet = next(pending, None)


def render_mp4(spec: MediaSpec) -> bytes:
    """Encode a playable, faststart H.264 (+ AAC when spec.audio) MP4 lasting spec.seconds."""
    if spec.width <= 0 or spec.height <= 0 or spec.width % 2 or spec.height % 2:
        raise ValueError(f"frame size must be positive and even: {spec.width}x{spec.height}")
    if spec.seconds <= 0 or spec.fps <= 0:
        raise ValueError("seconds and fps must be positive")
    import av

    # +faststart rewrites the file in a second pass, which FFmpeg only does on a real path.
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="klingsim-")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            _write(out, spec)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


class MediaCache:
    """Lazily rendered MP4s keyed by spec; LRU by total bytes; thread-safe, one render per spec."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._files: OrderedDict[MediaSpec, MediaFile] = OrderedDict()
        self._pending: dict[MediaSpec, Future[MediaFile]] = {}
        self._probes: OrderedDict[MediaSpec, ProbeResult] = OrderedDict()
        self._images: OrderedDict[bytes, ImageInfo | MediaError] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: MediaSpec) -> MediaFile:
        """The file for spec, rendering it on first request (concurrent callers share that render)."""
        with self._lock:
            media = self._files.get(spec)
            if media is not None:
                self._files.move_to_end(spec)
                return media
            future = self._pending.get(spec)
            owner = future is None
            if future is None:
                future = self._pending[spec] = Future()
        if not owner:
            return future.result()
        try:
            data = self._render(spec)  # outside the lock: other specs keep being served meanwhile
            media = MediaFile(data, f'"{hashlib.sha256(data).hexdigest()[:32]}"')
        except BaseException as exc:
            with self._lock:
                del self._pending[spec]
            future.set_exception(exc)
            raise
        with self._lock:
            del self._pending[spec]
            if len(data) <= self._max_bytes:  # a file larger than the whole cache is served, not kept
                self._files[spec] = media
                self._bytes += len(data)
                while self._bytes > self._max_bytes:
                    _, old = self._files.popitem(last=False)
                    self._bytes -= len(old.data)
        future.set_result(media)
        return media

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def _render(self, spec: MediaSpec) -> bytes:
        """Render spec; a large clip in a child process (with its probe), so the Python work of painting
        thousands of 4K frames never competes with the server's threads for the GIL."""
        if spec.width * spec.height * spec.seconds * spec.fps < _IN_PROCESS_PIXELS:
            return render_mp4(spec)
        rendered = _render_in_child(spec)
        if rendered is None:  # no child here (a script without a __main__ guard, say): render in place
            return render_mp4(spec)
        data, probed = rendered
        with self._lock:
            _bounded_put(self._probes, spec, probed)
        return data

    # Probes and image checks are answered from small caches, so a request whose inputs were checked
    # ahead of it, off the event loop (core.inputs.prepare), only looks them up.
    def probed(self, spec: MediaSpec) -> ProbeResult | None:
        """The cached probe of spec's file, if it was probed already."""
        with self._lock:
            return self._probes.get(spec)

    def probe(self, spec: MediaSpec) -> ProbeResult:
        """Probe spec's file (rendering it first if needed), once per spec."""
        found = self.probed(spec)
        if found is not None:
            return found
        result = probe(self.get(spec).data)
        with self._lock:
            _bounded_put(self._probes, spec, result)
        return result

    def image_checked(self, value: str) -> ImageInfo | MediaError | None:
        """The cached verdict on a base64 image (info or why it isn't one), if it was checked already."""
        key = _digest(value)
        with self._lock:
            return self._images.get(key)

    def check_image(self, value: str) -> ImageInfo:
        """decode_base64_image(value), cached by the value's digest; raises MediaError."""
        verdict = self.image_checked(value)
        if verdict is None:
            try:
                verdict = decode_base64_image(value)
            except MediaError as exc:
                verdict = exc
            with self._lock:
                _bounded_put(self._images, _digest(value), verdict)
        if isinstance(verdict, MediaError):
            raise MediaError(str(verdict))
        return verdict


_CACHED_VERDICTS = 1024
_IN_PROCESS_PIXELS = 1920 * 1080 * 24 * 5  # up to a 5 s 1080p clip renders in the calling thread


def _digest(value: str) -> bytes:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _bounded_put(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHED_VERDICTS:
        cache.popitem(last=False)


def _render_in_child(spec: MediaSpec) -> tuple[bytes, ProbeResult] | None:
    """(file, probe) rendered by a short-lived child process at a lower priority; None when none could
    run or it died (the caller renders in place). One child per render: renders are cached, so this is
    rare, and a child that dies is noticed rather than waited on forever."""
    # spawn, not fork: the server process has threads, and a forked child would inherit their locks.
    import multiprocessing  # loaded with the first render process, not at start-up

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_render_child, args=(spec, sender), daemon=True)
    try:
        child.start()
    except (RuntimeError, OSError):
        receiver.close()
        sender.close()
        return None
    sender.close()
    try:
        while not receiver.poll(0.2):
            if not child.is_alive() and not receiver.poll(0):
                return None
        answer: tuple[bytes, ProbeResult] | None = receiver.recv()
        return answer
    except (EOFError, OSError):
        return None
    finally:
        receiver.close()
        child.join(timeout=5)


def _render_child(spec: MediaSpec, sender: Connection) -> None:
    os.nice(10)  # background work: the server answering other clients comes first on a busy machine
    try:
        data = render_mp4(spec)
        sender.send((data, probe(data)))
    except Exception:
        sender.send(None)
    finally:
        sender.close()


def output_spec(aspect_ratio: str, lines: int, seconds: float, audio: bool) -> MediaSpec:
    """The MediaSpec of a simulated output with these properties."""
    width, height = frame_size(aspect_ratio, lines)
    return MediaSpec(width, height, float(seconds), audio)


def _parse_range(header: str, total: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """(first, last) for one satisfiable range, "unsatisfiable", or None to ignore the header."""
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    first_s, last_s = first_s.strip(), last_s.strip()
    if not dash or not (first_s.isdigit() or first_s == "") or not (last_s.isdigit() or last_s == ""):
        return None
    if first_s == "":
        if last_s == "":
            return None
        suffix = int(last_s)
        return (max(0, total - suffix), total - 1) if suffix > 0 and total > 0 else "unsatisfiable"
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None  # syntactically invalid per RFC 9110 14.1.1
    if first >= total:
        return "unsatisfiable"
    return first, min(int(last_s), total - 1) if last_s else total - 1


def serve_media(
    method: str,
    media: MediaFile,
    range_header: str | None,
    if_none_match: str | None,
    if_range: str | None = None,
) -> HttpAnswer:
    """Answer a GET or HEAD for media like a CDN: conditional requests and single byte ranges (RFC 9110)."""
    total = len(media.data)
    common: tuple[tuple[str, str], ...] = (("ETag", media.etag), ("Accept-Ranges", "bytes"))
    if if_none_match is not None:
        # If-None-Match uses weak comparison and takes precedence over Range.
        weak = media.etag.removeprefix("W/")
        if any(t.strip() in ("*", weak, f"W/{weak}") for t in if_none_match.split(",")):
            return HttpAnswer(304, common, b"")
    wanted: tuple[int, int] | Literal["unsatisfiable"] | None = None
    # Range is only defined for GET; If-Range needs a strong match, and we have no Last-Modified date.
    strong_match = if_range is not None and if_range.strip() == media.etag and not media.etag.startswith("W/")
    if range_header is not None and method.upper() == "GET" and (if_range is None or strong_match):
        wanted = _parse_range(range_header, total)
    if wanted == "unsatisfiable":
        headers = (("Content-Range", f"bytes */{total}"), ("Content-Length", "0"), *common)
        return HttpAnswer(416, headers, b"")
    body_wanted = method.upper() != "HEAD"
    if isinstance(wanted, tuple):
        first, last = wanted
        headers = (
            ("Content-Type", media.content_type),
            ("Content-Length", str(last - first + 1)),
            ("Content-Range", f"bytes {first}-{last}/{total}"),
            *common,
        )
        return HttpAnswer(206, headers, media.data[first : last + 1])
    headers = (("Content-Type", media.content_type), ("Content-Length", str(total)), *common)
    return HttpAnswer(200, headers, media.data if body_wanted else b"")


def probe(data: bytes) -> ProbeResult:
    """Duration, frame size and codecs of a video file; MediaError when it does not decode as video."""
    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            if video is None or container.duration is None or container.format.name.endswith("_pipe"):
                raise MediaError("data is not a video file")
            next(container.decode(video))  # prove the first frame really decodes
            return ProbeResult(
                duration=container.duration / av.time_base,
                width=video.codec_context.width,
                height=video.codec_context.height,
                has_audio=audio is not None,
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio is not None else None,
            )
    except (av.FFmpegError, StopIteration, UnicodeDecodeError) as exc:
        raise MediaError(f"data does not decode as a video: {exc}") from exc


def decode_image(data: bytes) -> ImageInfo:
    """Size and format of a still image (PNG, JPEG, WebP, ...); MediaError unless it really decodes."""
    if len(data) > MAX_IMAGE_BYTES:
        raise MediaError(f"image exceeds {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:
            fmt = container.format.name
            stream = next(iter(container.streams.video), None)
            # Image demuxers probe as "<codec>_pipe"; anything else (an MP4, say) is not a still image.
            if stream is None or not (fmt.endswith("_pipe") or fmt == "gif"):
                raise MediaError("image does not decode as an image")
            ctx = stream.codec_context
            if ctx.width * ctx.height > MAX_IMAGE_PIXELS:
                raise MediaError(f"image exceeds {MAX_IMAGE_PIXELS} pixels")
            frame = next(container.decode(stream))
            return ImageInfo(frame.width, frame.height, fmt.removesuffix("_pipe"))
    except (av.FFmpegError, StopIteration, UnicodeDecodeError) as exc:
        raise MediaError("image does not decode as an image") from exc


def decode_base64_image(value: str) -> ImageInfo:
    """Decode raw base64 or a base64 data URL ("data:image/png;base64,...") and check it is an image."""
    text = value.strip()
    if text[:5].lower() == "data:":
        header, comma, text = text.partition(",")
        if not comma or not header.lower().endswith(";base64"):
            raise MediaError("image data URL must be base64-encoded")
    text = "".join(text.split())  # line-wrapped base64 (MIME style) is common
    if not text:
        raise MediaError("image is empty")
    if len(text) * 3 // 4 > MAX_IMAGE_BYTES + 2:
        raise MediaError(f"image exceeds {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("image is not valid base64") from exc
    return decode_image(data)
