"""A deliberately careless kling3api client: everything the client suite exists to catch.

It polls twice a second, ignores Retry-After, resubmits the job after any error (paying twice when the
first attempt did go through), treats any finished status as success and never downloads the video.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx


def generate(base_url: str, api_key: str, request: Mapping[str, Any]) -> str | None:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers) as client:
        for _ in range(3):
            created = client.post("/api/generate", json={**request, "duration": 20})  # "longer is better"
            if created.status_code == 200:
                break
            created = client.post("/api/generate", json=dict(request))  # try again at once, whatever failed
            if created.status_code == 200:
                break
        if created.status_code != 200:
            return None  # nothing to show, but no error either
        task = created.json()["data"]["task_id"]
        while True:
            time.sleep(0.5)  # "fast feedback": twice a second
            data = client.get("/api/status", params={"task_id": task}).json()["data"]
            if data["status"] != "IN_PROGRESS":
                client.get("/api/status", params={"task_id": task})  # one more, to be sure
                return data["response"][0] if data["response"] else None
