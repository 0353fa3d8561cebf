"""When the executor's cluster cannot be reached: pause dispatch, wait, resume.

The same pause as a board that refuses writes (storage_pause.py), for the other thing
an attempt needs that is not its own fault: the engine is stopped as at shutdown, every
client is told why (`window/showMessage`), the cluster is tried every `executor.probe_s`,
and the first success starts a new engine whose recovery re-queues the tasks this boot
had leased without spending a retry. Nothing on the board is lost meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bosun_protocol.messages import StorageStatus

from bosun.engine.storage_pause import StoragePause
from bosun.errors import BosunError, ClusterUnavailableError, find_cause

log = logging.getLogger(__name__)


class ClusterPause(StoragePause):
    """Pauses the engine on ClusterUnavailableError; resumes once the cluster answers."""

    def failed(self, exc: BaseException) -> None:
        """An attempt could not reach the cluster: pause (once)."""
        error = find_cause(exc, ClusterUnavailableError)
        if error is None or self._closing or self.paused:
            return
        self.status = StorageStatus(state="paused", reason=error.message, since=datetime.now(UTC))
        log.warning("dispatch paused until the cluster can be reached: %s", error.message)
        self._announce(self.status)
        self._task = asyncio.create_task(self._wait_and_resume(), name="cluster-pause")

    async def _resume(self) -> bool:
        try:
            await self._probe()
            await self._restart()
        except BosunError as exc:
            if exc.message != self.status.reason:
                self.status = self.status.model_copy(update={"reason": exc.message})
                self._announce(self.status)
            return False
        except Exception:
            log.exception("resuming after the cluster pause failed; trying again")
            return False
        log.info("the cluster answers again; dispatch resumed")
        self.status = StorageStatus()
        self._announce(self.status)
        return True
