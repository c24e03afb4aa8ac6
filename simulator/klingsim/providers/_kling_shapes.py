"""Declared shapes of Kling's answers: the `{code, message, request_id, data}` envelope around the task
object (epoch-ms times, unit counts and video durations as strings), task lists and resource packs."""

from __future__ import annotations

from klingsim.spec import Shape, Unit
from klingsim.spec import shapes as s


def envelope(data: Shape) -> Shape:
    return s.obj(
        s.req("code", s.integer(description="0 on success")),
        s.req("message", s.string(description='"SUCCEED" on success')),
        s.req("request_id", s.string(description="a UUID per answer")),
        s.req("data", data),
    )


TASK_INFO = s.obj(s.opt("external_task_id", s.string()))
COMMON = (
    s.req("task_id", s.string(unit=Unit.JOB_ID)),
    s.req("task_status", s.string(unit=Unit.STATUS)),
    s.req("task_info", TASK_INFO),
    s.req("created_at", s.integer(unit=Unit.EPOCH_MS)),
    s.req("updated_at", s.integer(unit=Unit.EPOCH_MS)),
)
VIDEO = s.obj(
    s.req("id", s.string()),
    s.req("url", s.string(unit=Unit.URL)),
    s.opt("watermark_url", s.string(unit=Unit.URL)),
    s.req("duration", s.string(unit=Unit.SECONDS, string_number=True)),
)
TASK = s.obj(
    *COMMON,
    s.req("task_status_msg", s.string(description='"" unless the task failed')),
    s.req("watermark_info", s.obj(s.req("enabled", s.boolean()))),
    s.req("final_unit_deduction", s.string(unit=Unit.MONEY, string_number=True)),
    s.opt("task_result", s.obj(s.req("videos", s.array(VIDEO)))),
)
CREATED = envelope(s.obj(*COMMON))
QUERY = envelope(TASK)
LIST = envelope(s.array(TASK))
PACK = s.obj(
    s.req("resource_pack_name", s.string()),
    s.req("resource_pack_id", s.string()),
    s.req("resource_pack_type", s.string(enum=("decreasing_total", "constant_period"))),
    s.req("total_quantity", s.number(unit=Unit.MONEY)),
    s.req("remaining_quantity", s.number(unit=Unit.MONEY)),
    s.req("purchase_time", s.integer(unit=Unit.EPOCH_MS)),
    s.req("effective_time", s.integer(unit=Unit.EPOCH_MS)),
    s.req("invalid_time", s.integer(unit=Unit.EPOCH_MS)),
    s.req("status", s.string(enum=("toBeOnline", "online", "expired", "runOut"))),
)
COSTS = envelope(
    s.obj(
        s.req("code", s.integer()),
        s.req("msg", s.string()),
        s.req("resource_pack_subscribe_infos", s.array(PACK)),
    )
)
