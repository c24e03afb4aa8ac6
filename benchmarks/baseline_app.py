"""The yardstick of `bench_http.py`: a bare FastAPI mock of kling3api's create and status endpoints.

It does what a hand-written mock does and nothing more: pydantic validates a similar body, jobs live in a
dict, the answer has the provider's envelope. No auth, pricing, ledger, lifecycle, journal or faults. It runs
on uvicorn with uvloop and httptools, the fastest stock setup, so klingsim is compared with a fair opponent.

    python benchmarks/baseline_app.py --port 8001
"""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Literal

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field


class Generate(BaseModel):
    type: Literal["std-text-to-video", "pro-text-to-video", "std-image-to-video", "pro-image-to-video"]
    prompt: str = Field(min_length=1, max_length=2500)
    duration: Literal[5, 10] = 5
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"


app = FastAPI()
jobs: dict[str, dict[str, object]] = {}


@app.post("/api/generate")
async def generate(body: Generate) -> dict[str, object]:
    task_id = "n75" + secrets.token_hex(6)
    job: dict[str, object] = {
        "task_id": task_id,
        "status": "IN_PROGRESS",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "request": body.model_dump(),
        "response": [],
        "error_message": None,
        "type": body.type,
    }
    jobs[task_id] = job
    return {"code": 200, "message": "success", "data": {"task_id": task_id, "status": "IN_PROGRESS"}}


@app.get("/api/status")
async def status(task_id: str) -> dict[str, object]:
    job = jobs.get(task_id)
    if job is None:
        raise HTTPException(404, "task not found")
    return {"code": 200, "message": "success", "data": job}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    print(f"baseline serving on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_level="warning")


if __name__ == "__main__":
    main()
