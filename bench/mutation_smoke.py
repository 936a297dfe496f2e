"""Plant one-line bugs where a hotline hurts most and check that the suite catches each.

    .venv/bin/python bench/mutation_smoke.py [--only WORD] [--list] [--keep]

Each mutant below names a file, the exact source text to replace and its replacement,
and the test files that guard that line. The tracked files (`git ls-files`) are copied
to a scratch directory; every mutant is planted there alone, its tests run from inside
the scratch copy (so they import the mutated code, never the working tree), and the
original text is put back. A mutant is caught when its tests fail and the first failing
test passes on the unmutated copy; a test that fails there too catches nothing: it is
left out (and named at the end) and the mutant's tests run again without it.

Prints one line per mutant (file:line, the change, the tests run, the verdict and the
test that caught it, seconds) and a total; `--list` says what each bug would do to a
caller. Exit status 1 when a mutant survives, 2 when one cannot be run as written (its
text is gone or appears twice, its tests cannot be collected): edit it, do not skip it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TIMEOUT_SECONDS = 600  # per pytest run; a hang is reported, not waited out
MAX_LEFT_OUT = 3  # tests failing without any mutant, per mutant, before giving up


@dataclass(frozen=True)
class Mutant:
    what: str  # the bug, as a hotline user would feel it
    path: str
    old: str  # exact source text, found exactly once (more lines only to tell copies apart)
    new: str  # differs from `old` on one line
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "a spoken menu answer below SPEECH_GRAMMAR_MIN_CONFIDENCE is accepted",
        "speech/worker.py",
        "accepted = heard if confidence >= self.min_confidence else None",
        "accepted = heard",
        ("tests/test_speech_worker.py", "tests/test_speech_calls.py"),
    ),
    Mutant(
        "the calling window includes its end (a call placed at 20:00 sharp)",
        "core/calendar.py",
        "return start <= clock and (clock < end or end == END_OF_DAY)",
        "return start <= clock and (clock <= end or end == END_OF_DAY)",
        ("tests/test_callbacks_policy.py", "tests/test_core_settings.py"),
    ),
    Mutant(
        "a department user sees callers' full numbers",
        "tickets/disclosure.py",
        "return user is not None and user.role in FULL_NUMBER_ROLES",
        "return user is not None",
        ("tests/test_hostile_pages.py", "tests/test_tickets_api.py"),
    ),
    Mutant(
        "the idempotency key is not stored: a retried POST /api/tickets makes a second ticket",
        "tickets/service.py",
        "        idempotency_key=idempotency_key,\n        status=",
        "        idempotency_key=None,\n        status=",
        ("tests/test_tickets_api.py", "tests/test_tickets_service.py"),
    ),
    Mutant(
        "any X-Twilio-Signature is accepted on webhooks",
        "telephony/signature.py",
        "return validator.validate(public_url(), params, signature)",
        "return bool(signature)",
        ("tests/test_ivr_webhooks.py", "tests/test_hostile_webhooks.py"),
    ),
    Mutant(
        "SQLite's busy wait ignores the turn budget (a locked database delays the caller 10 s)",
        "ivr/calls.py",
        "_sqlite_busy_timeout(s, _remaining_ms(deadline))",
        "_sqlite_busy_timeout(s, SQLITE_BUSY_TIMEOUT_MS)",
        ("tests/test_hostile_calls.py",),
    ),
    Mutant(
        "signed webhooks get the pages' body limit (1 MiB) instead of 64 kB",
        "core/limits.py",
        "    if SIGNATURE_HEADER in request.headers:\n        return WEBHOOK",
        "    if SIGNATURE_HEADER in request.headers:\n        return FORM",
        ("tests/test_hostile_webhooks.py",),
    ),
    Mutant(
        "a flow may dial abroad with a domestic 00 prefix despite DIAL_ALLOWED=+86",
        "ivr/flows/dialplan.py",
        'if _DOMESTIC_RE.match(compact) and not compact.startswith("00"):',
        "if _DOMESTIC_RE.match(compact):",
        ("tests/test_hostile_webhooks.py", "tests/test_hostile_yaml.py"),
    ),
    Mutant(
        "callers go to the agent idle the shortest, not the longest",
        "agents/distribution.py",
        "func.coalesce(m.Agent.idle_since, m.Agent.status_since),",
        "func.coalesce(m.Agent.idle_since, m.Agent.status_since).desc(),",
        ("tests/test_agents_distribution.py", "tests/test_agents_claims.py"),
    ),
    Mutant(
        "bridges are not serialised: two agents can be bridged to one caller",
        "agents/legs.py",
        "    with get_db().session() as s:\n        begin_write(s)\n        offer = _offer(s)\n"
        "        if offer is None:\n            return _xml(agent_leg.announce(None))\n"
        "        stay = ",
        "    with get_db().session() as s:\n        pass\n        offer = _offer(s)\n"
        "        if offer is None:\n            return _xml(agent_leg.announce(None))\n"
        "        stay = ",
        ("tests/test_agents_claims.py",),
    ),
    Mutant(
        "one satisfaction callback attempt more than CALLBACK_MAX_ATTEMPTS",
        "callbacks/policy.py",
        "if attempt_no >= self.max_attempts:",
        "if attempt_no > self.max_attempts:",
        ("tests/test_callbacks_policy.py", "tests/test_callbacks_service.py"),
    ),
    Mutant(
        "a number put on the do-not-call list after scheduling is still dialled",
        "callbacks/dispatcher.py",
        "if service.is_do_not_call(s, attempt.number):",
        "if False:",
        ("tests/test_callbacks_dispatcher.py",),
    ),
)


class MutantError(Exception):
    """A mutant that cannot be planted or run as written."""


def plant(source: str, mutant: Mutant) -> tuple[str, int]:
    """The mutated source and the 1-based line of the change."""
    count = source.count(mutant.old)
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times"
        raise MutantError(f"{mutant.path}: text to replace {where}: {mutant.old!r}")
    old_lines, new_lines = mutant.old.split("\n"), mutant.new.split("\n")
    if len(old_lines) != len(new_lines):
        raise MutantError(f"{mutant.path}: a mutant keeps the number of lines: {mutant.old!r}")
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    if len(changed) != 1:
        raise MutantError(f"{mutant.path}: a mutant changes exactly one line: {mutant.old!r}")
    start = source.index(mutant.old)
    line = source.count("\n", 0, start) + 1 + changed[0]
    return source.replace(mutant.old, mutant.new), line


def scratch_copy(into: Path) -> None:
    """The tracked files of the repository as they are in the working tree."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for raw in filter(None, names):
        name = raw.decode()
        src = ROOT / name
        if src.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, into / name)


def scratch_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(scratch)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size and mtime second
    return env


def check_imports_from(scratch: Path) -> None:
    """Refuse to run unless the tests' interpreter imports the scratch copy's code."""
    probe = subprocess.run(
        [PYTHON, "-c", "import core, ivr, tests; print(core.__file__, ivr.__file__)"],
        cwd=scratch,
        env=scratch_env(scratch),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    resolved = scratch.resolve()
    if not all(Path(p).resolve().is_relative_to(resolved) for p in probe):
        raise MutantError(f"tests would import {probe}, not the scratch copy {scratch}")


def pytest(scratch: Path, targets: list[str]) -> tuple[int, str]:
    command = [PYTHON, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider"]
    try:
        done = subprocess.run(
            [*command, *targets],
            cwd=scratch,
            env=scratch_env(scratch),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TIMEOUT_SECONDS} s"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str | None:
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    return found.group(1) if found else None


def run_mutant(scratch: Path, mutant: Mutant) -> tuple[str, int, str, float, list[str]]:
    """(verdict, line, detail, seconds, tests left out): caught, SURVIVED or ERROR.

    A test that fails on the unmutated copy as well catches nothing: it is left out
    (and returned, to be reported) and the mutant's tests run again without it."""
    target = scratch / mutant.path
    original = target.read_text(encoding="utf-8")
    mutated, line = plant(original, mutant)
    missing = [t for t in mutant.tests if not (scratch / t).exists()]
    if missing:
        raise MutantError(f"{mutant.path}:{line}: test files not found: {', '.join(missing)}")
    started, left_out = time.monotonic(), []
    while True:
        target.write_text(mutated, encoding="utf-8")
        try:
            deselect = [f"--deselect={t}" for t in left_out]
            status, output = pytest(scratch, [*mutant.tests, *deselect])
        finally:
            target.write_text(original, encoding="utf-8")
        if status == 0:
            return "SURVIVED", line, "all passed", time.monotonic() - started, left_out
        failed = first_failure(output)
        if status != 1 or failed is None:
            tail = "\n".join(output.strip().splitlines()[-15:])
            seconds = time.monotonic() - started
            return "ERROR", line, f"pytest exit {status}:\n{tail}", seconds, left_out
        if pytest(scratch, [failed])[0] == 0:
            return "caught", line, f"by {failed}", time.monotonic() - started, left_out
        if len(left_out) == MAX_LEFT_OUT:
            seconds = time.monotonic() - started
            return "ERROR", line, "tests fail without the mutant", seconds, [*left_out, failed]
        left_out.append(failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run the mutants whose file or description has WORD")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()
    chosen = [
        m
        for m in MUTANTS
        if not args.only or args.only in m.path or args.only.lower() in m.what.lower()
    ]
    if not chosen:
        parser.error(f"no mutant matches {args.only!r}")
    for m in chosen:  # every text is checked before anything runs
        source = (ROOT / m.path).read_text(encoding="utf-8")
        _, line = plant(source, m)
        if args.list:
            print(f"{m.path}:{line}  {m.what}  [{' '.join(m.tests)}]")
    if args.list:
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="mutation-smoke-"))
    try:
        scratch_copy(scratch)
        (scratch / ".venv").symlink_to(Path(sys.prefix))
        check_imports_from(scratch)
        print(f"scratch copy {scratch}; {len(chosen)} mutants; load average {_load()}")
        verdicts, broken, started = [], set(), time.monotonic()
        for m in chosen:
            verdict, line, detail, seconds, left_out = run_mutant(scratch, m)
            verdicts.append(verdict)
            broken.update(left_out)
            print(
                f"{m.path}:{line}  {_one_line(m.old, m.new)}  tests: {' '.join(m.tests)}  "
                f"{verdict} {detail}  {seconds:.1f} s",
                flush=True,
            )
            if left_out:
                print(f"    left out, failing without the mutant: {' '.join(left_out)}")
        caught = verdicts.count("caught")
        minutes = (time.monotonic() - started) / 60
        print(
            f"{caught} of {len(chosen)} caught in {minutes:.1f} min "
            f"(load average at the end {_load()})"
        )
        for test in sorted(broken):
            print(f"FAILS WITHOUT ANY MUTANT (fix it): {test}")
    finally:
        if args.keep:
            print(f"scratch copy kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if "ERROR" in verdicts:
        return 2
    return 0 if caught == len(chosen) else 1


def _one_line(old: str, new: str) -> str:
    for a, b in zip(old.split("\n"), new.split("\n"), strict=True):
        if a != b:
            return f"`{a.strip()}` -> `{b.strip()}`"
    return ""


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MutantError as exc:
        print(f"mutation_smoke: {exc}", file=sys.stderr)
        sys.exit(2)
