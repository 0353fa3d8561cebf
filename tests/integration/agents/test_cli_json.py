"""`--json` on every command: stdout is only JSON (one document, or JSON Lines for
streams), whatever the command prints for people goes to stderr, and a failure is an
`{"error": …}` document too. Each command runs as a subprocess against a real daemon."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bosun.client import Client
from bosun.workspace import find_workspace

from tests.integration.agents.test_run_commands import BOSUN, _env

pytest.importorskip("bosun.engine.service")

SCENARIO = """
[[reply]]
role = "director"
turn = 1
text = "Writing the design now."
[[reply.tool_calls]]
name = "write_file"
arguments = { path = "docs/design.md", content = "# Design\\n" }

[[reply]]
role = "director"
turn = 2
text = "Design written; finishing up."
[[reply.tool_calls]]
name = "finish"
arguments = { summary = "design only" }

[[reply]]
role = "strategist"
text = '{"verdicts": [{"criterion": "1", "passed": true}, {"criterion": "2", "passed": true}]}'
"""


def bosun(repo: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BOSUN, "-C", str(repo), *args],
        capture_output=True, text=True, timeout=timeout, env=_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A repository whose daemon has one completed run (`bosun run --json`'s summary)."""
    repo = tmp_path_factory.mktemp("json") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# sample\n")
    git(repo, "add", "README.md")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    (state / "scenario.toml").write_text(SCENARIO)
    (state / "config.toml").write_text(
        f'[llm]\ndefault_model = "scripted:{state / "scenario.toml"}"\n'
        '[engine]\ntest_command = "true"\n'
    )
    out = bosun(repo, "run", "write the design", "--json")  # starts the daemon itself
    try:
        assert out.returncode == 0, out.stderr[-3000:]
        summary = json.loads(out.stdout)  # only the summary: progress went to stderr
        assert "started with" in out.stderr
        yield repo, summary
    finally:
        bosun(repo, "daemon", "stop")


def test_run_prints_only_its_summary_on_stdout(finished: tuple[Path, dict[str, Any]]) -> None:
    _, summary = finished
    assert summary["run"]["state"] == "completed"
    assert [t["key"] for t in summary["tasks"]] == ["director"]


def _task(summary: dict[str, Any]) -> str:
    return str(summary["tasks"][0]["id"])


def _run(summary: dict[str, Any]) -> str:
    return str(summary["run"]["id"])


# command (with {run} and {task}), then what the document must show
DOCUMENTS = [
    (["status"], lambda d: d[0]["run"]["state"] == "completed"),
    (["show", "{task}"], lambda d: d["task"]["key"] == "director"),
    (["events", "--limit", "5"], lambda d: len(d["events"]) == 5),
    (["diff", "{task}"], lambda d: any(f["path"] == "docs/design.md" for f in d["files"])),
    (["land", "{run}"], lambda d: d["outcome"] == "already_landed"),
    (["gc", "--dry-run"], lambda d: "removedWorktrees" in d),
    (["gc"], lambda d: "removedBranches" in d),
    (["daemon", "status"], lambda d: d["running"] is True),
    (["daemon", "start"], lambda d: "pid" in d),
    (["run", "again", "--detach"], lambda d: d["objective"] == "again"),
    (["doctor"], lambda d: "checks" in d),
]


@pytest.mark.parametrize(
    ("command", "check"), DOCUMENTS, ids=lambda c: " ".join(c) if isinstance(c, list) else ""
)
def test_every_command_prints_one_json_document(
    finished: tuple[Path, dict[str, Any]], command: list[str], check: Any
) -> None:
    repo, summary = finished
    words = [w.format(run=_run(summary), task=_task(summary)) for w in command]
    out = bosun(repo, *words, "--json")
    document = json.loads(out.stdout)
    assert check(document), document


def test_log_prints_json_lines(finished: tuple[Path, dict[str, Any]]) -> None:
    repo, summary = finished
    out = bosun(repo, "log", _task(summary), "--json")
    assert out.returncode == 0, out.stderr
    messages = [json.loads(line) for line in out.stdout.splitlines()]
    assert messages and all(m["attempt"] == 1 for m in messages)
    assert any("Writing the design now." in (m.get("content") or "") for m in messages)


FAILURES = [
    (["show", "999"], "999"),
    (["resolve", "{task}", "retry"], "not waiting for a human"),
    (["interrupt", "{task}"], "complete"),
    (["review", "{task}", "--approve"], "awaiting_review"),
    (["pause", "{run}"], "completed"),
    (["resume", "{run}"], "completed"),
    (["land", "99"], "99"),
    (["cancel", "{run}"], "already completed"),
]


@pytest.mark.parametrize(
    ("command", "said"), FAILURES, ids=lambda c: " ".join(c) if isinstance(c, list) else ""
)
def test_a_failing_command_prints_an_error_document_and_its_message(
    finished: tuple[Path, dict[str, Any]], command: list[str], said: str
) -> None:
    repo, summary = finished
    words = [w.format(run=_run(summary), task=_task(summary)) for w in command]
    out = bosun(repo, *words, "--json")
    assert out.returncode == 1
    error = json.loads(out.stdout)["error"]
    assert said in error["message"]
    assert out.stderr.startswith("bosun: ") and said in out.stderr


def test_replay_prints_only_its_report(finished: tuple[Path, dict[str, Any]]) -> None:
    repo, summary = finished
    out = bosun(repo, "replay", _run(summary), "--json")
    report = json.loads(out.stdout)
    assert report["original"] == summary["run"]["id"]
    assert report["state"] == "completed", out.stderr[-2000:]
    assert out.returncode == 0


def test_daemon_stop_says_what_it_stopped(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f").write_text("f\n")
    git(repo, "add", "f")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    started = json.loads(bosun(repo, "daemon", "start", "--json").stdout)
    stopped = bosun(repo, "daemon", "stop", "--json")
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout) == {
        "stopped": True, "running": False, "pid": started["pid"], "workspace": str(repo),
    }  # fmt: skip
    again = json.loads(bosun(repo, "daemon", "stop", "--json").stdout)
    assert again["stopped"] is False


def test_a_closed_pipe_ends_the_command_quietly(finished: tuple[Path, dict[str, Any]]) -> None:
    repo, _ = finished
    # `bosun events | head -1`: the reader leaves after one line.
    proc = subprocess.Popen(
        [*BOSUN, "-C", str(repo), "events", "--limit", "500"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141)
    assert first.startswith(b"#")
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_command_starts_the_daemon_when_none_runs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f").write_text("f\n")
    git(repo, "add", "f")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    try:
        out = bosun(repo, "status")
        assert out.returncode == 0, out.stderr
        assert out.stdout == 'no runs yet — start one with `bosun run "OBJECTIVE"`\n'
        assert out.stderr.startswith(f"bosun: started a daemon for {repo} (pid ")
        again = bosun(repo, "gc", "--dry-run", "--json")
        assert json.loads(again.stdout)["removedWorktrees"] == []
        assert again.stderr == ""  # it runs now: nothing more to say
        assert json.loads(bosun(repo, "daemon", "status", "--json").stdout)["running"] is True
    finally:
        bosun(repo, "daemon", "stop")


async def test_bosun_land_completes_a_run_waiting_in_landing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# sample\n")
    git(repo, "add", "README.md")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    state = repo / ".bosun"
    state.mkdir(mode=0o700)
    (state / "scenario.toml").write_text(SCENARIO)
    (state / "config.toml").write_text(
        f'[llm]\ndefault_model = "scripted:{state / "scenario.toml"}"\n'
        '[engine]\ntest_command = "true"\n[git]\nland_mode = "merge"\n'
    )
    (repo / "README.md").write_text("# sample, edited\n")  # dirty: landing must ask
    assert bosun(repo, "daemon", "start").returncode == 0
    try:
        async with await Client.connect(find_workspace(repo).socket_path) as client:
            out = await asyncio.to_thread(bosun, repo, "run", "design", "--detach", "--json")
            run = str(json.loads(out.stdout)["id"])
            while not (await client.request("bosun/humanQueue", {}))["prompts"]:
                await client.notifications.get()  # wait for the next change
        listed = json.loads(bosun(repo, "prompts", run, "--json").stdout)["prompts"]
        assert listed[0]["kind"] == "landing" and "uncommitted" in listed[0]["reason"]
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "mine")
        landed = bosun(repo, "land", run)
        assert landed.returncode == 0, landed.stderr
        assert landed.stdout.startswith(f"run {run} landed on main (merge) at ")
        status = json.loads(bosun(repo, "status", run, "--json").stdout)
        assert status["run"]["state"] == "completed"
        assert status["prompts"] == []
        assert (repo / "docs" / "design.md").read_text() == "# Design\n"
    finally:
        bosun(repo, "daemon", "stop")
