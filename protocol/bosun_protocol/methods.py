"""The one method table: method name → params type, result type, direction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bosun_protocol import engine as en
from bosun_protocol import messages as m
from bosun_protocol import review as rv
from bosun_protocol.base import WireModel


class Direction(StrEnum):
    """Who sends the message."""

    CLIENT_TO_SERVER = "client→server"
    SERVER_TO_CLIENT = "server→client"


@dataclass(frozen=True)
class MethodSpec:
    """One row of the table; `result` is None for notifications."""

    name: str
    params: type[WireModel]
    result: type[WireModel] | None
    direction: Direction
    doc: str


def _req(name: str, params: type[WireModel], result: type[WireModel], doc: str) -> MethodSpec:
    return MethodSpec(name, params, result, Direction.CLIENT_TO_SERVER, doc)


def _note(name: str, params: type[WireModel], doc: str) -> MethodSpec:
    return MethodSpec(name, params, None, Direction.SERVER_TO_CLIENT, doc)


_TABLE: list[MethodSpec] = [
    _req("bosun/status", m.Empty, m.StatusResult, "Daemon health and identity."),
    _req("bosun/createRun", m.CreateRunParams, m.RunResult, "Record a run for an objective."),
    _req("bosun/listRuns", m.ListRunsParams, m.ListRunsResult, "Runs, newest first."),
    _req("bosun/getRun", m.RunIdParams, m.GetRunResult, "A run with its tasks."),
    _req("bosun/getTask", m.TaskIdParams, m.GetTaskResult, "A task with its attempts."),
    _req("bosun/updateTask", m.UpdateTaskParams, m.TaskResult, "Edit a task; cycles refused."),
    _req("bosun/transcript", m.TranscriptParams, m.TranscriptResult, "A transcript page."),
    _req("bosun/eventsSince", m.EventsSinceParams, m.EventsSinceResult, "Resync from a seq."),
    _req("bosun/shutdown", m.ShutdownParams, m.ShutdownResult, "Stop the daemon."),
    _req("bosun/taskDiff", rv.TaskDiffParams, rv.TaskDiffResult, "A task's files and hunks."),
    _req("bosun/reviewTask", rv.ReviewTaskParams, rv.ReviewTaskResult, "Decide on a task."),
    _req("bosun/landRun", rv.LandRunParams, rv.LandRunResult, "Land a run on its base."),
    _req("bosun/gc", rv.GcParams, rv.GcResult, "Reconcile git with the board; clean up."),
    _req("bosun/resolveTask", en.ResolveTaskParams, en.ResolveTaskResult, "Answer a prompt."),
    _req("bosun/interruptTask", en.InterruptTaskParams, m.TaskResult, "Stop a task; ask."),
    _req("bosun/cancelRun", en.RunControlParams, m.RunResult, "Cancel a run's work."),
    _req("bosun/pauseRun", en.RunControlParams, m.RunResult, "Start no new attempts."),
    _req("bosun/resumeRun", en.RunControlParams, m.RunResult, "Resume a paused run."),
    _req("bosun/replan", en.ReplanParams, m.TaskResult, "Add a planning task with guidance."),
    _req("bosun/restartRun", en.RestartRunParams, en.RestartRunResult, "Reopen a stopped run."),
    _req("bosun/dropTask", en.DropTaskParams, en.DropTaskResult, "Drop a task not started."),
    _req("bosun/humanQueue", en.HumanQueueParams, en.HumanQueueResult, "Open prompts."),
    _note("bosun/humanPrompt", en.HumanPromptNotification, "A human is asked."),
    _note("bosun/promptResolved", en.PromptResolved, "A prompt was answered."),
    _note("bosun/transcriptDelta", en.TranscriptDelta, "Live transcript text."),
    _note("bosun/runChanged", m.RunChanged, "A run changed."),
    _note("bosun/taskChanged", m.TaskChanged, "A task changed."),
    _note("bosun/event", m.EventNotification, "An event was appended."),
    _note(
        "bosun/storageChanged",
        m.StorageChanged,
        "The board stopped (or started again) accepting writes: runs pause and resume.",
    ),
]

METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in _TABLE}

# `workspace/executeCommand` commands and the params model of their single argument.
COMMANDS: dict[str, type[WireModel]] = {
    "bosun.createRun": m.CreateRunParams,
    "bosun.resolveTask": en.ResolveTaskParams,
    "bosun.interruptTask": en.InterruptTaskParams,
    "bosun.cancelRun": en.RunControlParams,
    "bosun.pauseRun": en.RunControlParams,
    "bosun.resumeRun": en.RunControlParams,
    "bosun.status": m.Empty,
    "bosun.listRuns": m.ListRunsParams,
    "bosun.getRun": m.RunIdParams,
    "bosun.humanQueue": en.HumanQueueParams,
}
