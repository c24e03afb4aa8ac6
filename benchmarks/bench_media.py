"""Benchmark klingsim.core.media: cold MP4 renders and cached serving.

Run: PYTHONPATH=simulator .venv/bin/python benchmarks/bench_media.py
Targets: cold 1080p 15 s render <= 1.5 s; cached MediaCache.get + serve_media <= 5 ms (median).
"""

from __future__ import annotations

import os
import statistics
import time

from klingsim.core.media import MediaCache, MediaSpec, frame_size, probe, render_mp4, serve_media


def cold(label: str, spec: MediaSpec) -> None:
    start = time.perf_counter()
    data = render_mp4(spec)
    elapsed = time.perf_counter() - start
    info = probe(data)
    print(
        f"cold render {label:<22} {elapsed:6.3f} s  {len(data) / 1e6:6.2f} MB  "
        f"probed {info.width}x{info.height} {info.duration:.3f} s audio={info.audio_codec}"
    )


def cached(spec: MediaSpec, calls: int = 1000) -> None:
    cache = MediaCache()
    media = cache.get(spec)  # warm the cache; measured separately above
    size = len(media.data)
    cases = {
        "GET 200": (None, None),
        "GET 206 1 MiB": ("bytes=0-1048575", None),
        "GET 206 tail": (f"bytes={size // 2}-", None),
        "GET 304": (None, media.etag),
    }
    for name, (range_header, if_none_match) in cases.items():
        timings = []
        for _ in range(calls):
            start = time.perf_counter()
            answer = serve_media("GET", cache.get(spec), range_header, if_none_match)
            timings.append(time.perf_counter() - start)
        median = statistics.median(timings) * 1e3
        p99 = statistics.quantiles(timings, n=100)[98] * 1e3
        print(
            f"cached get+serve {name:<14} median {median:7.4f} ms  p99 {p99:7.4f} ms  "
            f"status {answer.status} body {len(answer.body)} B"
        )


def main() -> None:
    print(f"cpus: {os.cpu_count()}")
    cold("720p 16:9 5 s", MediaSpec(*frame_size("16:9", 720), 5, False))
    cold("720p 16:9 5 s +audio", MediaSpec(*frame_size("16:9", 720), 5, True))
    cold("1080p 16:9 15 s +audio", MediaSpec(*frame_size("16:9", 1080), 15, True))
    cold("1080p 9:16 15 s +audio", MediaSpec(*frame_size("9:16", 1080), 15, True))
    cold("2160p 16:9 15 s +audio", MediaSpec(*frame_size("16:9", 2160), 15, True))
    cached(MediaSpec(*frame_size("16:9", 1080), 15, True))


if __name__ == "__main__":
    main()
