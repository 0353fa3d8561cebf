"""Allow / ask / deny rules for tool calls, and the run-scoped memory of approvals.

A call is matched against every rule; the strictest matching action wins
(deny > ask > allow), and a call no rule matches is allowed. `ask` puts an approval
request in front of a human; "allow always" is remembered for the rest of the run for
calls that match the same ask rule. The rules are a guard against a model's plain
mistakes, not a security boundary: a shell can spell any command many ways. The
boundary is the sandbox (docs/security.md).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bosun.tools.context import ApprovalChoice, ApprovalRequest, ToolContext
from bosun.tools.settings import PolicyRule, ToolSettings

_GIT = r"\bgit\s+(?:-[^\s]+\s+(?:[^-\s][^\s]*\s+)?)*"

DEFAULT_RULES: tuple[PolicyRule, ...] = (
    PolicyRule(
        action="deny",
        tool="run_command",
        regex=_GIT + r"(?:push|checkout|switch|worktree|remote|update-ref|symbolic-ref)\b",
        reason="pushing, switching branches and touching other worktrees are not allowed; "
        "use git_status, git_diff, git_log and git_commit on this task's branch",
    ),
    PolicyRule(
        action="deny",
        tool="run_command",
        regex=_GIT + r"branch\s+(?:-[dDmMcCf]\b|--delete|--move|--copy|--force)",
        reason="branches are managed by bosun",
    ),
    PolicyRule(
        action="ask",
        tool="run_command",
        regex=r"(?:^|[;&|(\s])sudo\s",
        reason="runs a command as another user",
    ),
    PolicyRule(
        action="ask",
        tool="run_command",
        regex=r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
        reason="pipes a download into a shell",
    ),
)

_RANK = {"allow": 0, "ask": 1, "deny": 2}


def rule_label(rule: PolicyRule) -> str:
    """A stable text naming a rule (shown to humans; the key of allow-always)."""
    what = rule.command or (f"/{rule.regex}/" if rule.regex else "*")
    return f"{rule.action} {rule.tool} {what}"


@dataclass(frozen=True)
class Verdict:
    """The strictest action of the rules a call matched."""

    action: str
    rules: tuple[PolicyRule, ...]


def _matches(rule: PolicyRule, tool: str, command: str | None) -> bool:
    if not fnmatch.fnmatchcase(tool, rule.tool):
        return False
    if rule.command is None and rule.regex is None:
        return True
    if command is None:
        return False
    if rule.command is not None and not fnmatch.fnmatchcase(command, rule.command):
        return False
    return rule.regex is None or re.search(rule.regex, command) is not None


class Policy:
    """The rules in force for the daemon, and what humans allowed for each run."""

    def __init__(self, rules: list[PolicyRule] | tuple[PolicyRule, ...]) -> None:
        self.rules = tuple(rules)
        self._always: dict[int, set[str]] = {}

    @classmethod
    def from_settings(cls, settings: ToolSettings) -> Policy:
        """The documented defaults (unless turned off) plus the configured rules."""
        base = DEFAULT_RULES if settings.default_policy else ()
        return cls([*base, *settings.policy])

    def evaluate(self, tool: str, command: str | None, extra: Sequence[PolicyRule] = ()) -> Verdict:
        """The strictest action among matching rules (allow when none match).

        `extra` are rules of the tool's own (an MCP server's), weighed with the others.
        """
        hits = tuple(r for r in (*extra, *self.rules) if _matches(r, tool, command))
        if not hits:
            return Verdict("allow", ())
        top = max(_RANK[r.action] for r in hits)
        return Verdict(next(a for a, n in _RANK.items() if n == top), hits)

    def remembered(self, run_id: int, labels: list[str]) -> bool:
        """Whether a human already allowed every one of these ask rules for this run."""
        return bool(labels) and all(lbl in self._always.get(run_id, ()) for lbl in labels)

    def forget_run(self, run_id: int) -> None:
        """Drop a finished run's allow-always answers."""
        self._always.pop(run_id, None)

    async def authorize(
        self,
        ctx: ToolContext,
        tool: str,
        arguments: dict[str, Any],
        command: str | None,
        extra: Sequence[PolicyRule] = (),
    ) -> str | None:
        """None when the call may go ahead; otherwise the reason it may not."""
        verdict = self.evaluate(tool, command, extra)
        if verdict.action == "allow":
            return None
        if verdict.action == "deny":
            reasons = "; ".join(
                r.reason or rule_label(r) for r in verdict.rules if r.action == "deny"
            )
            return f"denied by policy: {reasons}"
        asks = [r for r in verdict.rules if r.action == "ask"]
        labels = [rule_label(r) for r in asks]
        if self.remembered(ctx.run_id, labels):
            return None
        if ctx.approver is None:
            return "this call needs a human's approval and no human is reachable; do without it"
        decision = await ctx.approver.request_approval(
            ApprovalRequest(
                run_id=ctx.run_id,
                task_id=ctx.task_id,
                attempt=ctx.attempt,
                tool=tool,
                arguments=arguments,
                rule=" | ".join(labels),
                reason="; ".join(r.reason for r in asks if r.reason),
            )
        )
        if decision.choice is ApprovalChoice.ALLOW_ALWAYS:
            self._always.setdefault(ctx.run_id, set()).update(labels)
        if decision.choice is ApprovalChoice.DENY:
            note = f": {decision.note}" if decision.note else ""
            return f"a human denied this call{note}"
        return None
