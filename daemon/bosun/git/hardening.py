"""What may configure the git the daemon runs: the decision table of docs/security.md.

The daemon's git runs outside every sandbox, with the daemon's authority. Which
repository and work tree it uses is pinned elsewhere (`bosun.git.pinned`); this module
holds the rest: the settings every daemon git gets on its command line (command-line
config beats every file, and is passed on to the gits that git itself starts), the
flags that stop recursion into nested repositories, and the environment.

The user's own configuration (system, `~/.gitconfig`, the main repository's
`.git/config`, and what they include) is honoured — e.g. git-lfs's filters — except
for the settings below, which would let git run a program or reach outside the work
tree for no purpose the daemon has. Nothing written inside a worktree is ever read as
configuration: the git directory is pinned, so a planted gitdir or config is never
opened, and nested repositories are never entered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# Every transport is refused by name as well as by default: `protocol.<name>.allow`
# from the user's config would otherwise beat `protocol.allow` (`ext::` runs a command).
_PROTOCOLS = ("file", "git", "ssh", "http", "https", "ext", "fd")

# (setting, value): what each one would otherwise run or reach is in docs/security.md.
OVERRIDES: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),  # every hook: post-checkout, post-commit, ...
    ("core.fsmonitor", "false"),  # a hook program, or a daemon of git's own
    ("core.pager", "cat"),
    ("core.editor", ":"),
    ("sequence.editor", ":"),
    ("core.askPass", ""),
    ("commit.gpgSign", "false"),  # gpg.program / gpg.<format>.program: never signing
    ("tag.gpgSign", "false"),
    ("rebase.gpgSign", "false"),
    ("log.showSignature", "false"),  # ... nor verifying
    ("merge.verifySignatures", "false"),
    ("submodule.recurse", "false"),  # nested repositories: never entered
    ("diff.ignoreSubmodules", "all"),
    ("status.submoduleSummary", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("protocol.allow", "never"),  # the daemon never talks to a remote
    *((f"protocol.{name}.allow", "never") for name in _PROTOCOLS),
    ("gc.auto", "0"),  # no background gc / maintenance started by a daemon command
    ("maintenance.auto", "false"),
    ("advice.detachedHead", "false"),
    ("color.ui", "false"),
)


def config_args(overrides: tuple[tuple[str, str], ...] = OVERRIDES) -> tuple[str, ...]:
    """`-c key=value` for each override, in order."""
    out: list[str] = []
    for key, value in overrides:
        out += ["-c", f"{key}={value}"]
    return tuple(out)


OVERRIDE_ARGS = config_args()

# Flags for the commands that would otherwise look into nested repositories (or run
# external diff and textconv programs); `--ignore-submodules` on the command line also
# beats a `submodule.<name>.ignore` in a `.gitmodules` the task wrote. `diff.external`
# cannot be unset from the command line (an empty value is run as a program), so every
# daemon `git diff` that prints a patch carries `--no-ext-diff` instead.
STATUS_FLAGS = ("--ignore-submodules=all",)
DIFF_FLAGS = ("--no-ext-diff", "--no-textconv", "--ignore-submodules=all")
RESET_FLAGS = ("--no-recurse-submodules",)
COMMIT_FLAGS = ("--no-verify", "--no-gpg-sign")

# Provider keys and tokens the daemon holds never reach git or what git may start.
_SECRETISH = re.compile(r"(API_KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)

# Variables outside GIT_* that name a program git (or a pager it starts) would run.
_PROGRAM_VARS = frozenset({"EDITOR", "VISUAL", "PAGER", "SSH_ASKPASS", "LESSOPEN", "LESSCLOSE"})

# Fixed on every daemon git: no prompts, no editor or pager, C messages (they are
# parsed), no optional locks (status never rewrites an index it only reads).
_FIXED = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": ":",
    "GIT_SEQUENCE_EDITOR": ":",
    "GIT_MERGE_AUTOEDIT": "no",
    "GIT_PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}


def inherited(name: str) -> bool:
    """Whether a variable of the daemon's environment may reach a git it runs: no GIT_*
    (GIT_DIR, GIT_CONFIG_PARAMETERS/COUNT, GIT_EXEC_PATH, GIT_SSH... would choose the
    repository, inject settings or name programs), no secret, no program variable."""
    return not name.startswith("GIT_") and name not in _PROGRAM_VARS and not _SECRETISH.search(name)


def git_environment(
    base: Mapping[str, str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a daemon git: `base` filtered by `inherited`, the fixed
    variables, then `extra` (the pinned GIT_DIR and work tree, an identity, a
    temporary index) on top."""
    env = {k: v for k, v in base.items() if inherited(k)}
    env.update(_FIXED)
    if extra:
        env.update(extra)
    return env


def daemon_git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """`git_environment` over the daemon's own environment."""
    return git_environment(os.environ, extra)
