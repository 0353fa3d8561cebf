"""Worker profiles: each its own system prompt, tool set and model role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from bosun_protocol.entities import Profile

from bosun.llm.messages import ToolSpec
from bosun.tools.registry import ToolRegistry

_COMMON = "common"


@dataclass(frozen=True)
class AgentProfile:
    """How one kind of worker runs: its prompt, the model role it calls, its tools."""

    profile: Profile
    role: str  # the model role (`[llm.roles]`), which also keys scripted scenarios
    prompt: str

    def tools(self, registry: ToolRegistry) -> list[ToolSpec]:
        """The tools this profile may call, as the model sees them."""
        return [
            ToolSpec(name=s.name, description=s.description, parameters=s.parameters)
            for s in registry.specs(self.profile)
        ]


@cache
def prompt_text(name: str) -> str:
    """The shipped prompt `prompts/<name>.md`."""
    return (resources.files("bosun.agents") / "prompts" / f"{name}.md").read_text("utf-8")


def system_prompt(profile: Profile) -> str:
    """The whole system prompt of `profile`: its own text, then the rules every worker follows."""
    own = prompt_text(profile.value).strip()
    if profile is Profile.STRATEGIST:
        return own + "\n"  # QA answers in JSON, not through the worker rules
    return f"{own}\n\n{prompt_text(_COMMON).strip()}\n"


def profile_of(profile: Profile) -> AgentProfile:
    """The agent profile for a task's `profile`."""
    return AgentProfile(profile=profile, role=profile.value, prompt=system_prompt(profile))
