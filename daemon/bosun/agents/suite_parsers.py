"""Readers of test runners' reports: JUnit XML, `go test` (-json or text), cargo, TAP, pytest.

Each returns `SuiteResults`, or None when the text is not in its format. The text is
the repository's (its test output), so it is read as hostile: bounded, never expanded
(an XML document declaring entities is refused), and a malformed part is skipped.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from bosun.agents.suite_results import FailureCollector, SuiteResults

MAX_XML_BYTES = 64 * 1024 * 1024
_MAX_JSON_LINE = 1_000_000
_OUTPUT_LINES = 12  # output lines of one test kept for its detail
_YAML_LINES = 40  # a TAP failure's YAML block lines read (the detail keeps a few)


# -- JUnit XML ---------------------------------------------------------------------------


def parse_junit(data: bytes) -> SuiteResults | str:
    """The results in a JUnit XML report, or why it cannot be read."""
    if len(data) > MAX_XML_BYTES:
        return f"the JUnit file is {len(data)} bytes (more than {MAX_XML_BYTES})"
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data:
        return "the JUnit file declares a DOCTYPE or entities (refused)"
    found = FailureCollector()
    passed = 0
    try:
        for _, element in ET.iterparse(io.BytesIO(data), events=("end",)):
            if _local(element.tag) != "testcase":
                continue
            name = _case_name(element)
            bad = [c for c in element if _local(c.tag) in ("failure", "error")]
            if bad:
                found.add(name, _junit_detail(bad[0]))
            elif not any(_local(c.tag) == "skipped" for c in element):
                passed += 1
            element.clear()  # a report of 100,000 cases stays small in memory
    except ET.ParseError as exc:
        return f"the JUnit file is not well-formed XML ({exc})"
    return found.results("junit", passed)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _case_name(case: ET.Element) -> str:
    classname = case.get("classname") or ""
    name = case.get("name") or "(unnamed)"
    return f"{classname}::{name}" if classname else name


def _junit_detail(element: ET.Element) -> str:
    message = (element.get("message") or "").strip()
    text = element.text or ""
    # pytest marks the assertion's explanation with "E   "; other runners give the text.
    marked = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = [message] if message else []
    lines += [m for m in marked if m and m != message] or text.strip().splitlines()[:4]
    return "\n".join(lines)


# -- go test -----------------------------------------------------------------------------


def parse_go_json(output: str) -> SuiteResults | None:
    """`go test -json` events (lines of JSON objects with an "Action")."""
    events = list(_json_events(output))
    if not events:
        return None
    found = FailureCollector()
    texts: dict[tuple[str, str], list[str]] = {}
    failed_tests: set[str] = set()
    passed = 0
    for event in events:
        action, package = event.get("Action"), str(event.get("Package") or "")
        test = event.get("Test")
        key = (package, str(test or ""))
        if action == "output":
            kept = texts.setdefault(key, [])
            line = str(event.get("Output") or "").rstrip()
            if len(kept) < _OUTPUT_LINES and _go_detail_line(line):
                kept.append(line.strip())
        elif action == "pass" and test:
            passed += 1
        elif action == "fail" and test:
            failed_tests.add(package)
            found.add(f"{package}.{test}", "\n".join(texts.get(key, [])))
        elif action in ("fail", "build-fail") and not test and package not in failed_tests:
            # The package failed with no failing test: it did not build, or panicked.
            found.add(f"{package} (package)", "\n".join(texts.get(key, [])))
    return found.results("go-json", passed)


def _json_events(output: str) -> Iterator[dict[str, object]]:
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{") or len(line) > _MAX_JSON_LINE:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("Action"), str):
            yield event


def _go_detail_line(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith(("=== ", "--- ", "PASS", "FAIL", "ok "))


_GO_FAIL = re.compile(r"^(\s*)--- FAIL: (\S+)")
_GO_PKG = re.compile(r"^(ok|FAIL)\s+(\S+)(?:\s+(\[[^\]]+\]|[\d.]+s|\(cached\)))?\s*$")


def parse_go_text(output: str) -> SuiteResults | None:
    """`go test` as it prints without -json: `--- FAIL: TestX`, then `FAIL\tpkg`."""
    lines = output.splitlines()
    if not any(_GO_PKG.match(line) for line in lines):
        return None
    found = FailureCollector()
    pending: list[tuple[str, list[str]]] = []  # failures waiting for their package's line
    current: list[str] | None = None
    loose: list[str] = []  # lines outside a test: a build error, a panic
    for line in lines:
        fail = _GO_FAIL.match(line)
        package = _GO_PKG.match(line)
        if fail:
            current = []
            pending.append((fail.group(2), current))
        elif package:
            status, name, extra = package.groups()
            if status == "FAIL" and not pending:
                found.add(f"{name} (package)", "\n".join([extra or "", *loose]))
            for test, detail in pending:
                found.add(f"{name}.{test}", "\n".join(detail))
            pending, current, loose = [], None, []
        elif current is not None and len(current) < _OUTPUT_LINES and _go_detail_line(line):
            current.append(line.strip())
        elif current is None and len(loose) < _OUTPUT_LINES and _go_detail_line(line):
            loose.append(line.strip())
    return found.results("go", None)


# -- cargo test --------------------------------------------------------------------------

_CARGO_RESULT = re.compile(r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed")
_CARGO_LINE = re.compile(r"^test (.+?) \.\.\. (FAILED|ok|ignored)")
_CARGO_BLOCK = re.compile(r"^---- (.+?) stdout ----$")
_CARGO_RUNNING = re.compile(r"^\s*Running (?:\S+ )?\S+ \((?:.*/)?([^/()]+?)(?:-[0-9a-f]{8,})?\)")


def parse_cargo(output: str) -> SuiteResults | None:
    """`cargo test`: `test x ... FAILED` (or, quiet, the `failures:` list) and the panics."""
    lines = output.splitlines()
    if not any(_CARGO_RESULT.match(line) for line in lines):
        return None
    found = FailureCollector()
    crate = ""
    details: dict[str, list[str]] = {}
    failing: list[str] = []
    passed = 0
    block: list[str] | None = None
    in_list = False
    for line in lines:
        if m := _CARGO_RUNNING.match(line):
            crate, block, in_list = m.group(1), None, False
        elif m := _CARGO_BLOCK.match(line):
            block, in_list = details.setdefault(_crated(crate, m.group(1)), []), False
        elif m := _CARGO_LINE.match(line):
            if m.group(2) == "FAILED":
                failing.append(_crated(crate, m.group(1)))
        elif m := _CARGO_RESULT.match(line):
            passed += int(m.group(1))
            block, in_list = None, False
        elif line.strip() == "failures:":
            # Printed twice: before the captured outputs, and before the list of names.
            in_list, block = True, None
        elif in_list and line.startswith("    ") and line.strip():
            failing.append(_crated(crate, line.strip()))
        elif line.startswith("stack backtrace:"):
            block = None  # frames say where, not why
        elif block is not None and len(block) < _OUTPUT_LINES and _panic_line(line):
            block.append(line.strip())
    for name in failing:
        found.add(name, "\n".join(details.get(name, [])))
    return found.results("cargo", passed)


def _panic_line(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("note: ")


def _crated(crate: str, name: str) -> str:
    return f"{crate}::{name}" if crate else name


# -- TAP ---------------------------------------------------------------------------------

_TAP = re.compile(r"^(\s*)(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$")
_TAP_SUBTEST = re.compile(r"^(\s*)# Subtest: (.+)$")
_TAP_PLAN = re.compile(r"^\s*(TAP version \d+|1\.\.\d+)")


def parse_tap(output: str) -> SuiteResults | None:
    """TAP (node --test, tape, prove): `not ok N - name`, with its YAML block as detail."""
    lines = output.splitlines()
    if not any(_TAP_PLAN.match(line) for line in lines):
        return None
    found = FailureCollector()
    passed = 0
    subtests: list[tuple[int, str]] = []
    pending: tuple[str, list[str]] | None = None  # a failure whose YAML block may follow
    in_yaml = False
    seen = False
    for line in lines:
        if pending is not None and line.strip() == "---":
            in_yaml = True
            continue
        if in_yaml:
            if line.strip() == "...":
                in_yaml = False
            elif pending is not None and len(pending[1]) < _YAML_LINES:
                pending[1].append(line.strip())
            continue
        if m := _TAP_SUBTEST.match(line):
            subtests.append((len(m.group(1)), m.group(2).strip()))
            continue
        if pending is not None and line.lstrip().startswith("#"):
            if len(pending[1]) < _OUTPUT_LINES:  # Test::More's diagnostics
                pending[1].append(line.lstrip()[1:].strip())
            continue
        m = _TAP.match(line)
        if not m:
            continue
        seen = True
        if pending is not None:
            _add_tap(found, pending)
            pending = None
        indent, status, number, description, directive = m.groups()
        depth = len(indent)
        while subtests and subtests[-1][0] > depth:
            subtests.pop()
        if subtests and subtests[-1][0] == depth:
            subtests.pop()  # this line closes its own "# Subtest:"
        own = description.strip() or f"test {number or '?'}"
        name = " > ".join([*(s for _, s in subtests), own])
        skipped = (directive or "").upper().startswith(("TODO", "SKIP"))
        if status == "ok" or skipped:
            passed += status == "ok"
        else:
            pending = (name, [])
    if pending is not None:
        _add_tap(found, pending)
    return found.results("tap", passed) if seen else None


def _add_tap(found: FailureCollector, pending: tuple[str, list[str]]) -> None:
    name, lines = pending
    # node --test fails a parent whose subtest failed: the subtest is the failure.
    if not any("subtestsFailed" in line for line in lines):
        found.add(name, _tap_detail(lines))


_YAML_KEY = re.compile(r"^([A-Za-z_]\w*):")
_TAP_WANTED = {"error", "message", "expected", "actual", "operator", "at", "location"}


def _tap_detail(lines: list[str]) -> str:
    """The YAML block's keys that say why (a block scalar's lines with its key)."""
    if not any(_YAML_KEY.match(line) for line in lines):
        return "\n".join(lines)  # Test::More's `#` diagnostics, not YAML
    chosen: list[str] = []
    keep = False
    for line in lines:
        key = _YAML_KEY.match(line)
        if key:
            keep = key.group(1) in _TAP_WANTED
        if keep:
            chosen.append(line)
    return "\n".join(chosen)


# -- pytest (printed short summary) ------------------------------------------------------

_PYTEST_SUMMARY = re.compile(r"^=+ short test summary info =+$", re.M)
_PYTEST_LINE = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$")
_PYTEST_PASSED = re.compile(r"(\d+) passed")


def parse_pytest_text(output: str) -> SuiteResults | None:
    """pytest's `short test summary info` (when it wrote no JUnit file)."""
    start = _PYTEST_SUMMARY.search(output)
    if start is None:
        return None
    found = FailureCollector()
    for line in output[start.end() :].splitlines():
        if m := _PYTEST_LINE.match(line.strip()):
            found.add(m.group(2), m.group(3) or "")
    counts = _PYTEST_PASSED.findall(output[start.end() :])
    return found.results("pytest", int(counts[-1]) if counts else 0)


# -- which one ---------------------------------------------------------------------------


def read_results(output: str, junit: bytes | None = None) -> SuiteResults | None:
    """The per-test results of a run: its JUnit file first, else its output's format."""
    note = ""
    if junit is not None:
        parsed = parse_junit(junit)
        if isinstance(parsed, SuiteResults):
            return parsed
        note = parsed
    for reader in (parse_go_json, parse_cargo, parse_go_text, parse_tap, parse_pytest_text):
        found = reader(output)
        if found is not None:
            found.note = note
            return found
    return None
