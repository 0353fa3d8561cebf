"""bosun.executors: where an attempt's worktree lives and its tools and checks run.

`local` (the default) is the daemon's own machine, exactly as before the seam existed:
the executor hands out no place and every tool runs in-process. `ray` runs them on a
Ray cluster (bosun.executors.ray_executor), one actor per attempt, with the repository
state shipped as git bundles. The agent loop, the model gateway, the board, merges and
landing stay in the daemon either way (docs/scaling.md says why).
"""
