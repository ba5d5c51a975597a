from typing import Literal

from checks import CheckContext, CheckParams, CheckType, Outcome


class QueueDepth(CheckParams):
    type: Literal["queue_depth"] = "queue_depth"
    url: str
    max: int = 100


async def run(params: QueueDepth, ctx: CheckContext) -> Outcome:
    depth = int((await ctx.http.get(params.url)).json()["depth"])
    if depth > params.max:
        return Outcome.failed(f"queue depth {depth} > {params.max}", depth=depth)
    return Outcome.passed(f"queue depth {depth}", depth=depth)


CHECK = CheckType("queue_depth", QueueDepth, run)
