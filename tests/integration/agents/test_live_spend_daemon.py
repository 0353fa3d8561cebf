"""The live view's `spent` line against a real daemon: its costliest tasks include the
model call that moved the total (they lagged one call: the run's notification comes
before its task's, and the line was drawn at the run's)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bosun.cli.demo_command import OBJECTIVE, _auto_answer, make_sample_repo
from bosun.cli.live_view import LiveView
from bosun.client import Client
from bosun.workspace import find_workspace

from tests.integration.agents.test_run_commands import bosun

_SPENT = re.compile(r"spent \d+ tokens, (\d+) calls, \$(\d+\.\d{4})(?: \((.*)\))?$")
# A price, so each call's cost shows; at this price a call costs about $1, so the
# attempt limit that is on out of the box ($4) would stop the demo's director mid-way.
_PRICE = (
    '\n[llm.prices."scripted:*"]\ninput = 1000.0\noutput = 1000.0\n'
    '\n[llm.budget]\nattempt_usd = "unlimited"\n'
)


async def test_each_spent_line_counts_the_call_that_moved_the_total(tmp_path: Path) -> None:
    repo = tmp_path / "wordkit"
    repo.mkdir()
    make_sample_repo(repo)
    config = repo / ".bosun" / "config.toml"
    config.write_text(config.read_text() + _PRICE)
    assert bosun(repo, "daemon", "start").returncode == 0
    out = io.StringIO()
    try:
        async with await Client.connect(find_workspace(repo).socket_path) as client:
            view = LiveView(client, _auto_answer, out=out, spend_every_s=0)
            created = await client.request("bosun/createRun", {"objective": OBJECTIVE})
            view.follow(created["run"]["id"])
            try:
                run = await view.wait(240)
            finally:
                await view.close()
    finally:
        bosun(repo, "daemon", "stop")
    assert run["state"] == "completed", out.getvalue()
    lines = [m for line in out.getvalue().splitlines() if (m := _SPENT.search(line))]
    assert len(lines) >= 5, out.getvalue()
    for found in lines:
        total = float(found.group(2))
        listed = found.group(3).split(", ") if found.group(3) else []
        shown = [float(part.rsplit("$", 1)[1]) for part in listed]
        assert shown and max(shown) > 0, found.group(0)
        if len(shown) < 3:  # every task that spent is listed: they add up to the total
            assert abs(sum(shown) - total) <= 0.0002 * len(shown), found.group(0)
        else:
            assert sum(shown) <= total + 0.0006, found.group(0)
    assert float(lines[-1].group(2)) == round(run["cost"]["usd"], 4)
