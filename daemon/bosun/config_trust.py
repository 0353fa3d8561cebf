"""Only the owner configures Bosun: a `.bosun/config.toml` the repository carries is refused.

`.bosun/config.toml` decides where prompts and API keys go (`llm.base_url`,
`api_key_env`), which sandbox commands get and which programs run. A repository that
ships one in its history (a hostile clone), or a task whose commit added one and
landed, would configure the daemon with the authority of the person running it. So a
config file git tracks is not read at all: the error says how to make it the owner's.
The task side is closed too: commits never stage `.bosun/` and landing refuses a run
that changes it (see `git/nested.py` and `git/landing.py`).
"""

from __future__ import annotations

from pathlib import Path

from bosun.git.command import GitCli


def tracked_config_reason(config_path: Path) -> str | None:
    """Why `config_path` must not be read (git tracks it), or None when it is the owner's."""
    repo = config_path.parent.parent
    if not (repo / ".git").exists() or not config_path.exists():
        return None
    out = GitCli(timeout_s=30.0).run(
        repo, "ls-files", "-z", "--", str(config_path.relative_to(repo)), check=False
    )
    if not out.ok or not out.stdout.strip("\0"):
        return None
    return (
        f"{config_path} is tracked by git: it came with the repository's history, so "
        "Bosun does not take its settings (they choose where API keys are sent and what "
        "runs). If you wrote it, untrack it and keep it as your own: "
        "`git rm --cached .bosun/config.toml && git commit`"
    )
