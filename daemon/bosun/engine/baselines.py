"""The run base's test results, which QA compares a task's failing tests with.

Taken once per base: at the start of the run (alongside the director), in a detached
checkout of the base commit, and kept in the board's journal under the base's tree id
and the test command, so later runs on the same tree (and a restarted daemon) reuse
them. A base on which the tests cannot run at all is reported once, at the start, as a
run-level `tests_cannot_run` prompt with the output: retry takes the results again
(after the environment was fixed), abandon goes on without the comparison. Neither is
cached: the environment, not the tree, decided them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bosun_protocol.engine import PromptKind
from bosun_protocol.engine import ResolveAction as A
from bosun_protocol.entities import Run

from bosun.agents.api import CheckResult
from bosun.agents.cannot_run import output_excerpt
from bosun.agents.suite_results import Failure, SuiteResults, name_list
from bosun.errors import BosunError

if TYPE_CHECKING:
    from bosun.engine.core import Engine

log = logging.getLogger(__name__)
BASELINES = "qa_baseline"  # journal: "<tree>:<command digest>" → the base's results
BASE_EVENT = "qa.baseline"
_RECORD_VERSION = 1


def baseline_key(tree: str, command: str | None) -> str:
    """The journal key of a base tree's results under a test command (None: detected)."""
    digest = hashlib.sha256((command or "(detected)").encode()).hexdigest()[:16]
    return f"{tree}:{digest}"


def to_record(check: CheckResult) -> dict[str, Any]:
    """A check as the journal keeps it."""
    return {"version": _RECORD_VERSION, **asdict(check)}


def from_record(data: dict[str, Any]) -> CheckResult | None:
    """A check back from the journal (None: a record this version cannot read)."""
    if data.get("version") != _RECORD_VERSION:
        return None
    try:
        raw = data.get("results")
        results = None
        if isinstance(raw, dict):
            failures = [Failure(str(f["name"]), str(f.get("detail", ""))) for f in raw["failures"]]
            results = SuiteResults(
                str(raw["runner"]), failures, raw.get("passed"), int(raw.get("more_failures", 0))
            )
        return CheckResult(
            str(data["command"]),
            data.get("exit_code"),
            str(data.get("output_tail", "")),
            float(data.get("duration_s", 0.0)),
            results=results,
        )
    except (KeyError, TypeError, ValueError):
        return None


class Baselines:
    """Takes each run's base results once and hands them to QA."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._taking: dict[int, asyncio.Task[CheckResult | None]] = {}

    def begin(self, run: Run) -> None:
        """Start taking the run's base results (once; a no-op when under way or done)."""
        if run.id in self._taking or not run.base_commit:
            return
        self._taking[run.id] = self.engine.spawn(self._take(run), f"baseline-{run.id}")

    async def of(self, run: Run) -> CheckResult | None:
        """The run's base results (waiting for them), or None when there are none."""
        self.begin(run)
        task = self._taking.get(run.id)
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the engine is stopping: QA goes on without it
                return None
            raise

    def drop(self, run_id: int) -> None:
        """The run is over: stop taking its base results (its checkout is removed)."""
        task = self._taking.pop(run_id, None)
        if task is not None and not task.done():
            task.cancel()

    def forget(self, run_id: int) -> None:
        """Take the run's base results again next time (a human fixed the environment)."""
        self._taking.pop(run_id, None)

    async def answered(self, run: Run, action: A) -> None:
        """A human's answer to the run's `tests_cannot_run` prompt."""
        if action is A.RETRY:
            self.forget(run.id)
            self.begin(run)

    async def _take(self, run: Run) -> CheckResult | None:
        e = self.engine
        commit = run.base_commit or ""
        command = e.settings.test_command
        try:
            tree = await e.git.tree_of(commit)
            if tree is None:
                return None
            key = baseline_key(tree, command)
            saved = await e.store.journal_get(BASELINES, key)
            if saved is not None and (kept := from_record(saved)) is not None:
                return kept
            async with e.git.base_checkout(commit) as path:
                result = await e.runner.run_baseline(run, path, command)
        except (BosunError, OSError) as exc:
            log.warning("run %d: the base's test results could not be taken: %s", run.id, exc)
            return None
        if result is None:
            return None
        await e.store.append_event(BASE_EVENT, run_id=run.id, data=_event(tree, commit, result))
        if result.cannot_run is not None:
            await self._report(run, result)
        elif result.exit_code is not None:  # a timed-out run says nothing of the tree
            await e.store.journal_put(BASELINES, key, to_record(result))
        return result

    async def _report(self, run: Run, result: CheckResult) -> None:
        e = self.engine
        reason = (
            f"the tests cannot run on the run's base commit ({(run.base_commit or '')[:12]}): "
            f"{result.cannot_run}. Tasks' failures cannot be told from the base's, and each "
            "task's QA will stop the same way until the environment is fixed (retry takes "
            "the base's results again; abandon goes on without them).\n"
            f"$ {result.command}\n{output_excerpt(result.output_tail)}"
        )
        log.warning("run %d: %s", run.id, reason)
        prompt = await e.humans.open(
            run.id, None, PromptKind.TESTS_CANNOT_RUN, reason, [A.RETRY, A.ABANDON]
        )
        await e.humans.announce(prompt, None)


def _event(tree: str, commit: str, result: CheckResult) -> dict[str, Any]:
    names = [f.name for f in result.results.failures] if result.results else []
    return {
        "tree": tree,
        "commit": commit,
        "command": result.command,
        "exitCode": result.exit_code,
        "durationS": result.duration_s,
        "runner": result.results.runner if result.results else None,
        "failing": result.results.failed_count if result.results else None,
        "names": name_list(names, limit=20),
        "cannotRun": result.cannot_run,
    }
