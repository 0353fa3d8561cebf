"""Settings of QA's test gate (owned by bosun.agents)."""

from pydantic import BaseModel, ConfigDict, Field

_DOCS = ["*.md", "*.markdown", "*.rst", "*.adoc", "LICENSE*", "AUTHORS*", "NOTICE*"]


class QaSettings(BaseModel):
    """`[qa]` in `.bosun/config.toml`."""

    model_config = ConfigDict(extra="forbid")

    # Compare a task's failing tests with the run's base commit: only new failures fail
    # QA. The base's results are taken once per base tree and command, and kept.
    baseline: bool = True
    # Run the full test suite on a task that changes only documentation (files matching
    # docs_patterns, or nothing at all). Off: such a task passes the test gate untested.
    gate_docs_only: bool = False
    # What counts as documentation (fnmatch patterns on repository paths; `*` spans `/`).
    docs_patterns: list[str] = Field(default_factory=lambda: list(_DOCS), max_length=200)
    # Ask pytest for a JUnit XML report (through PYTEST_ADDOPTS) to read failures test by
    # test. Off: pytest's printed summary is read instead.
    junit: bool = True
