"""Start-up stays light: FastAPI (the control plane) loads on the first control-plane request and the MP4
writer on the first media work, not before."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import httpx

from klingsim.server.app import create_app


def test_building_the_served_app_does_not_load_fastapi() -> None:
    code = (
        "import sys\n"
        "from klingsim.server.run import ServeOptions, build\n"
        "build(ServeOptions())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'pydantic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_building_the_served_app_does_not_load_the_mp4_writer() -> None:
    code = (
        "import sys\n"
        "from klingsim.server.run import ServeOptions, build\n"
        "sim = build(ServeOptions()).sim\n"
        "print('klingsim.core.media' in sys.modules)\n"
        "print(len(sim.media), 'klingsim.core.media' in sys.modules)\n"  # loaded on first use
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "0", "True"]


async def _get(app: Any, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        return await client.get(path)


def test_health_is_answered_as_the_control_plane_answers_it_without_building_it() -> None:
    app = create_app()
    fast = asyncio.run(_get(app, "/_klingsim/health"))
    assert app._control is None
    framework = asyncio.run(_get(create_app().control, "/_klingsim/health"))
    assert (fast.status_code, fast.content) == (framework.status_code, framework.content)
    assert fast.content == b'{"status":"ok"}'
    assert list(fast.headers.items()) == list(framework.headers.items())
