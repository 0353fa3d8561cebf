"""Running one attempt under its limits: time, stall, and a stop request.

The attempt's coroutine is awaited until it ends, its deadline passes (time spent
waiting for a human's approval is not counted), it shows no sign of life for the stall
limit, or someone asks it to stop. Then it is asked to stop (its `cancel` event — the
worker loop stops and the tools layer kills its process groups) and, after a grace
period, cancelled outright. Waking happens only at deadlines or on the stop event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from bosun_protocol.entities import AttemptOutcome

from bosun.agents.api import AttemptReport
from bosun.engine.core import ActiveAttempt

_STOP_OUTCOMES = {
    "timeout": AttemptOutcome.TIMEOUT,
    "stalled": AttemptOutcome.STALLED,
    "interrupt": AttemptOutcome.INTERRUPTED,
    "cancel": AttemptOutcome.INTERRUPTED,
    "shutdown": AttemptOutcome.INTERRUPTED,
}


def stop_outcome(reason: str) -> AttemptOutcome:
    """The attempt outcome recorded for a stop reason."""
    return _STOP_OUTCOMES.get(reason, AttemptOutcome.INTERRUPTED)


async def supervise(
    work: Awaitable[AttemptReport],
    handle: ActiveAttempt,
    *,
    time_limit_s: float,
    stall_s: float,
    grace_s: float,
    now: Callable[[], float],
) -> AttemptReport:
    """The attempt's report, or one saying why it was stopped."""
    job = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(handle.cancel.wait())
    try:
        while not job.done():
            t = now()
            if handle.waiting_since is not None:
                timeout = stall_s  # a human is deciding: no clock runs; look again later
            else:
                deadline = handle.started + time_limit_s + handle.human_wait_total(t)
                stall_at = handle.last_activity + stall_s
                timeout = max(0.0, min(deadline, stall_at) - t)
                if t >= deadline:
                    handle.stop("timeout", f"the attempt took longer than {time_limit_s:.0f} s")
                elif t >= stall_at:
                    handle.stop("stalled", f"no activity for {stall_s:.0f} s")
            if handle.cancel.is_set():
                break
            await asyncio.wait({job, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not job.done():
            # Asked to stop: give the worker loop its grace to stop by itself.
            await asyncio.wait({job}, timeout=grace_s)
        if not job.done():
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
    finally:
        stop.cancel()
    if handle.stop_reason is not None:
        report = _result_or_none(job) or AttemptReport(outcome=AttemptOutcome.INTERRUPTED)
        report.outcome = stop_outcome(handle.stop_reason)
        report.error = handle.stop_note or report.error
        report.needs_human = None
        return report
    return job.result()


def _result_or_none(job: asyncio.Future[AttemptReport]) -> AttemptReport | None:
    if job.cancelled() or job.exception() is not None:
        return None
    return job.result()
