"""Declared shapes of fal's queue answers: the submit receipt, status, result, cancel."""

from __future__ import annotations

from klingsim.spec import Unit
from klingsim.spec import shapes as s

RECEIPT = s.obj(
    s.req("request_id", s.string(unit=Unit.JOB_ID)),
    s.req("response_url", s.string(unit=Unit.URL)),
    s.req("status_url", s.string(unit=Unit.URL)),
    s.req("cancel_url", s.string(unit=Unit.URL)),
    s.req("queue_position", s.integer(minimum=0)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.opt("gateway_request_id", s.string()),
)
LOG = s.obj(
    s.req("message", s.string()),
    s.req("level", s.string()),
    s.req("source", s.string()),
    s.req("timestamp", s.string(unit=Unit.ISO_8601)),
)
STATUS = s.obj(
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("request_id", s.string(unit=Unit.JOB_ID)),
    s.req("response_url", s.string(unit=Unit.URL)),
    s.opt("queue_position", s.integer(minimum=0)),
    s.opt("logs", s.array(LOG, nullable=True)),
    s.opt("metrics", s.obj(s.req("inference_time", s.number(unit=Unit.SECONDS)))),
    s.opt("error", s.string(nullable=True)),
)
RESULT = s.obj(
    s.req(
        "video",
        s.obj(
            s.req("url", s.string(unit=Unit.URL)),
            s.req("content_type", s.string(enum=("video/mp4",))),
            s.req("file_name", s.string()),
            s.req("file_size", s.integer(minimum=0, unit=Unit.BYTES, description="bytes")),
        ),
    )
)
CANCEL = s.obj(s.req("status", s.string(enum=("CANCELLATION_REQUESTED",))))
