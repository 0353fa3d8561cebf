"""A separate process that writes to a board, for crash tests (run by test_crash.py).

DB is a SQLite file's path, or a postgresql:// URL (schema and password from the
environment: BOARD_SCHEMA, BOARD_PASSWORD).

python board_child.py DB setup    create run 1 with 8 ready tasks, exit cleanly
python board_child.py DB batch    move all 8 ready → active at once (arm a failpoint)
python board_child.py DB loop     cycle the tasks forever, printing "task state"
                                  after each durable transition returns
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bosun.board import Store, TaskSpec, TaskState
from bosun.board.location import BoardLocation, PostgresBoard

S = TaskState
CYCLE = {S.READY: S.ACTIVE, S.ACTIVE: S.FAILED, S.FAILED: S.READY}


def location(db: str) -> BoardLocation:
    """The board named on the command line."""
    if db.startswith("postgresql://"):
        password = os.environ.get("BOARD_PASSWORD")
        return PostgresBoard(url=db, schema=os.environ["BOARD_SCHEMA"], password=password)
    return Path(db)


async def main(db: BoardLocation, mode: str) -> None:
    """Do what `mode` says to the board at `db`."""
    store = await Store.open(db, boot_id=f"child-{mode}")
    if mode == "setup":
        run = await store.create_run("crash test")
        tasks = await store.create_tasks(
            run.id, [TaskSpec(key=f"t{i}", title="t") for i in range(8)]
        )
        for t in tasks:
            await store.transition(t.id, expected=S.PLANNED, to=S.READY)
        await store.close()
        return
    tasks = await store.list_tasks(1)
    if mode == "batch":
        await asyncio.gather(
            *(store.transition(t.id, expected=S.READY, to=S.ACTIVE) for t in tasks)
        )
        print("batch committed: the failpoint did not fire", flush=True)
        return

    async def cycle(task_id: int, state: TaskState) -> None:
        while True:
            nxt = CYCLE[state]
            await store.transition(task_id, expected=state, to=nxt)
            state = nxt
            print(task_id, state.value, flush=True)

    await asyncio.gather(*(cycle(t.id, t.state) for t in tasks))


if __name__ == "__main__":
    asyncio.run(main(location(sys.argv[1]), sys.argv[2]))
