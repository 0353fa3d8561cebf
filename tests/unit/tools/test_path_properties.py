"""Properties of path splitting and output bounding, over generated inputs."""

from __future__ import annotations

from pathlib import Path

from bosun.tools.errors import PathRefusedError
from bosun.tools.paths import Worktree
from bosun.tools.process import OutputBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

PIECES = st.sampled_from(
    ["tmp", "a", "b.txt", ".", "..", "", ".git", ".GIT", ".bosun", "x\x00y", "…", " "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=8), st.booleans())
def test_split_never_yields_a_component_that_climbs_or_hides(
    pieces: list[str], absolute: bool
) -> None:
    tree = Worktree(Path("/tmp"))  # only lexical splitting is exercised: nothing is opened
    root = tree.root
    path = ("/" if absolute else "") + "/".join(pieces)
    try:
        parts = tree.split(path, allow_root=True)
    except PathRefusedError:
        return
    assert ".." not in parts
    assert all(
        p.lower() not in (".git", ".bosun") and "\x00" not in p and p not in ("", ".")
        for p in parts
    )
    assert not absolute or path.startswith(str(root))


@given(st.lists(st.binary(max_size=300), max_size=40), st.integers(min_value=10, max_value=500))
def test_output_buffer_keeps_exact_head_and_tail_and_counts_everything(
    chunks: list[bytes], limit: int
) -> None:
    buffer = OutputBuffer(limit)
    for chunk in chunks:
        buffer.feed(chunk)
    data = b"".join(chunks)
    assert buffer.total == len(data)
    rendered = buffer.render()
    if len(data) <= limit:
        assert rendered == data
    else:
        assert rendered.startswith(data[: buffer.head_limit])
        assert rendered.endswith(data[len(data) - buffer.tail_limit :])
        assert f"of {len(data)}".encode() in rendered
