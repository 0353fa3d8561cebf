"""bosun.tools: the tool registry, the call pipeline, file/command/git/framework tools, the sandbox.

registry = build_registry(settings.tools)
executor = ToolExecutor(registry, Policy.from_settings(settings.tools))
result = await executor.call(ctx, "read_file", '{"path": "README.md"}')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bosun.tools.context import (
        ApprovalChoice,
        ApprovalDecision,
        ApprovalRequest,
        Approver,
        EventSink,
        FrameworkHost,
        SubtaskSpec,
        ToolContext,
    )
    from bosun.tools.executor import ToolExecutor
    from bosun.tools.policy import DEFAULT_RULES, Policy
    from bosun.tools.registry import PROFILE_TOOLS, Tool, ToolRegistry, ToolSpec
    from bosun.tools.results import AskHuman, ControlOutcome, Finish, ToolResult
    from bosun.tools.sandbox import Sandbox, SandboxReport, current_sandbox, sandbox_report
    from bosun.tools.settings import ToolSettings

# Exports load on first use: `bosun.config` imports `bosun.tools.settings`, and the
# daemon should not build every tool before it can answer its first request.
_WHERE = {
    **dict.fromkeys(
        [
            "ApprovalChoice",
            "ApprovalDecision",
            "ApprovalRequest",
            "Approver",
            "EventSink",
            "FrameworkHost",
            "SubtaskSpec",
            "ToolContext",
        ],
        "bosun.tools.context",
    ),
    "ToolExecutor": "bosun.tools.executor",
    "DEFAULT_RULES": "bosun.tools.policy",
    "Policy": "bosun.tools.policy",
    **dict.fromkeys(["PROFILE_TOOLS", "Tool", "ToolRegistry", "ToolSpec"], "bosun.tools.registry"),
    **dict.fromkeys(["AskHuman", "ControlOutcome", "Finish", "ToolResult"], "bosun.tools.results"),
    **dict.fromkeys(
        ["Sandbox", "SandboxReport", "current_sandbox", "sandbox_report"], "bosun.tools.sandbox"
    ),
    "ToolSettings": "bosun.tools.settings",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'bosun.tools' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def build_registry(settings: ToolSettings) -> ToolRegistry:
    """Every built-in tool; web_search only when it is configured."""
    from bosun.tools.commands import RUN_COMMAND
    from bosun.tools.files import FILE_TOOLS
    from bosun.tools.framework import FRAMEWORK_TOOLS
    from bosun.tools.git_tools import GIT_TOOLS
    from bosun.tools.registry import ToolRegistry
    from bosun.tools.search import SEARCH_TOOLS
    from bosun.tools.web_search import make_web_search

    registry = ToolRegistry([*FILE_TOOLS, *SEARCH_TOOLS, RUN_COMMAND, *GIT_TOOLS, *FRAMEWORK_TOOLS])
    search = make_web_search(settings.web_search)
    if search is not None:
        registry.register(search)
    return registry


__all__ = [
    "DEFAULT_RULES",
    "PROFILE_TOOLS",
    "ApprovalChoice",
    "ApprovalDecision",
    "ApprovalRequest",
    "Approver",
    "AskHuman",
    "ControlOutcome",
    "EventSink",
    "Finish",
    "FrameworkHost",
    "Policy",
    "Sandbox",
    "SandboxReport",
    "SubtaskSpec",
    "Tool",
    "ToolContext",
    "ToolExecutor",
    "ToolRegistry",
    "ToolResult",
    "ToolSettings",
    "ToolSpec",
    "build_registry",
    "current_sandbox",
    "sandbox_report",
]
