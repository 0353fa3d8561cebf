"""The tool registry: argument models, descriptions, JSON schemas, and profile tool sets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from bosun_protocol.entities import Profile
from pydantic import BaseModel

from bosun.tools.context import ToolContext
from bosun.tools.results import ToolResult

A = TypeVar("A", bound=BaseModel)

Handler = Callable[[ToolContext, A], Awaitable[ToolResult | str]]


@dataclass(frozen=True)
class ToolSpec:
    """A provider-neutral tool definition: name, description, JSON schema of arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Tool(Generic[A]):
    """One tool: its argument model, what it does, and how it runs."""

    name: str
    description: str
    args: type[A]
    run: Handler[A]
    # False for tools that enforce their own limit (run_command's is per call).
    timed: bool = True
    # A line shown in events and approval requests instead of the full arguments.
    summary_field: str | None = None
    # "worktree": runs where the attempt's worktree is (the executor's place, when it has
    # one); "daemon": always here, beside the board and the secrets (framework tools,
    # web search).
    where: Literal["worktree", "daemon"] = "worktree"

    def spec(self) -> ToolSpec:
        """The JSON schema the model sees."""
        schema = _clean_schema(self.args.model_json_schema())
        schema.pop("description", None)  # the args model's docstring; the tool's own is better
        return ToolSpec(self.name, self.description, schema)


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's `title` noise; providers only need types and descriptions."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if isinstance(value, dict):
            value = _clean_schema(value) if key != "properties" else _clean_props(value)
        elif isinstance(value, list):
            value = [_clean_schema(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def _clean_props(props: dict[str, Any]) -> dict[str, Any]:
    return {name: _clean_schema(p) if isinstance(p, dict) else p for name, p in props.items()}


_READ = ("read_file", "list_directory", "file_exists", "search_codebase")
_WRITE = ("write_file", "edit_file", "delete_file")
_GIT_READ = ("git_status", "git_diff", "git_log")
_GIT = (*_GIT_READ, "git_commit")
_SHARE = ("post_insight", "log_design_decision")
_END = ("ask_human", "finish")

# Which tools each worker profile may call (names absent from the registry are skipped,
# so web_search appears only where it is configured).
PROFILE_TOOLS: dict[Profile, tuple[str, ...]] = {
    Profile.DIRECTOR: (*_READ, *_WRITE, *_GIT, "create_subtasks", *_SHARE, "web_search", *_END),
    Profile.PLANNER: (*_READ, *_GIT_READ, "create_subtasks", *_SHARE, "web_search", *_END),
    Profile.CODER: (*_READ, *_WRITE, "run_command", *_GIT, *_SHARE, "web_search", *_END),
    Profile.TESTER: (*_READ, *_WRITE, "run_command", *_GIT, *_SHARE, *_END),
    Profile.TEST_ARCHITECT: (*_READ, *_WRITE, "run_command", *_GIT, *_SHARE, *_END),
    Profile.RESEARCHER: (*_READ, "write_file", "edit_file", "web_search", *_SHARE, *_END),
    Profile.WRITER: (*_READ, *_WRITE, "run_command", *_GIT, *_SHARE, *_END),
    Profile.MERGER: (*_READ, *_WRITE, "run_command", *_GIT, "post_insight", *_END),
    Profile.STRATEGIST: (*_READ, "run_command", *_GIT_READ, "post_insight", *_END),
}


class ToolRegistry:
    """Every tool the daemon offers, by name, and the subset each profile gets."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        self._profiles: dict[Profile, tuple[str, ...]] = dict(PROFILE_TOOLS)
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any], *, profiles: Iterable[Profile] = ()) -> None:
        """Add a tool (names are unique); `profiles` get it on top of their defaults."""
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        for profile in profiles:
            self._profiles[profile] = (*self._profiles.get(profile, ()), tool.name)

    def get(self, name: str) -> Tool[Any] | None:
        """The tool called `name`, if registered."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Every registered tool name."""
        return sorted(self._tools)

    def for_profile(self, profile: Profile) -> list[Tool[Any]]:
        """The tools `profile` may call, in a stable order."""
        wanted = dict.fromkeys(self._profiles.get(profile, ()))
        return [self._tools[n] for n in wanted if n in self._tools]

    def allowed(self, profile: Profile, name: str) -> bool:
        """Whether `profile` may call `name`."""
        return name in self._tools and name in self._profiles.get(profile, ())

    def specs(self, profile: Profile) -> list[ToolSpec]:
        """The tool definitions to send to the model for `profile`."""
        return [t.spec() for t in self.for_profile(profile)]
