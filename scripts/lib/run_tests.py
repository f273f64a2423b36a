#!/usr/bin/env python3
"""Runs the workspace's test binaries a few at a time, longest first.

`cargo test --workspace` runs one test binary after another, and most of
ours spend their time waiting on brokers, outages and deadlines rather than
on the CPU, so two binaries side by side finish the suite in far less time
on the same two cores. This script builds every test binary once (`cargo
test --no-run`), then runs them `--jobs` at a time, each in its package's
directory as cargo would, longest first by the times the last run recorded
(binaries it has not seen go first). Each binary's output is kept and shown
when it fails; every binary runs even after a failure, as with
`--no-fail-fast`, and the exit status says whether all passed. Doc tests
run last through cargo.

Usage: run_tests.py [--jobs N] [cargo test arguments, e.g. --locked] [-- test binary arguments]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TIMES = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasmconnect" / "test-times.json"


def build(cargo_args):
    """Builds the test binaries; returns (name, executable, package dir) for each."""
    print("building the test binaries (cargo test --no-run)", flush=True)
    proc = subprocess.run(
        ["cargo", "test", "--workspace", "--no-run", "--message-format=json-render-diagnostics", *cargo_args],
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(proc.returncode)
    binaries = []
    for line in proc.stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if message.get("reason") != "compiler-artifact" or not message.get("profile", {}).get("test"):
            continue
        executable = message.get("executable")
        if not executable:
            continue
        target = message["target"]
        package = Path(message["manifest_path"]).parent
        kind = target["kind"][0]
        name = f"{package.name}/{target['name']}" if kind == "test" else f"{package.name} ({kind} {target['name']})"
        binaries.append((name, executable, package))
    return binaries


def load_times():
    try:
        return json.loads(TIMES.read_text())
    except (OSError, ValueError):
        return {}


def save_times(times):
    try:
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(times, indent=1, sort_keys=True))
    except OSError as e:
        print(f"cannot record the test times in {TIMES}: {e}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("WASMCONNECT_TEST_JOBS", "2")))
    argv = sys.argv[1:]
    # As with `cargo test`, what follows `--` goes to every test binary.
    binary_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    args, cargo_args = parser.parse_known_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    binaries = build(cargo_args)
    times = load_times()
    # Unknown binaries first (they may be long), then the longest known.
    binaries.sort(key=lambda b: -times.get(b[0], float("inf")))
    queue = list(binaries)
    lock = threading.Lock()
    failed = []
    finished = []
    started = time.monotonic()
    logs = tempfile.mkdtemp(prefix="wasmconnect-tests.")

    def lane():
        while True:
            with lock:
                if not queue:
                    return
                name, executable, package = queue.pop(0)
            log = Path(logs) / (name.replace("/", "_").replace(" ", "_") + ".log")
            begin = time.monotonic()
            try:
                with open(log, "w") as out:
                    code = subprocess.run(
                        [executable, *binary_args], cwd=package, stdout=out, stderr=subprocess.STDOUT
                    ).returncode
                output = log.read_text(errors="replace")
            except OSError as e:
                # A binary that cannot run is a failure, never a silent skip.
                code, output = -1, f"cannot run {executable}: {e}"
            took = time.monotonic() - begin
            with lock:
                times[name] = round(took, 1)
                finished.append(name)
                elapsed = time.monotonic() - started
                summary = next(
                    (l.strip() for l in reversed(output.splitlines()) if l.startswith("test result:")),
                    "",
                )
                status = "ok" if code == 0 else f"FAILED (exit {code})"
                print(f"[{elapsed:6.0f}s] {status:<16} {name} in {took:.1f}s  {summary}", flush=True)
                if code != 0:
                    failed.append(name)
                    print(output, flush=True)

    print(f"running {len(binaries)} test binaries, {args.jobs} at a time (outputs in {logs})", flush=True)
    lanes = [threading.Thread(target=lane) for _ in range(args.jobs)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    save_times(times)
    missing = [b[0] for b in binaries if b[0] not in finished]
    if missing:
        failed.extend(f"{name} (never ran)" for name in missing)

    print("running the doc tests", flush=True)
    doc = subprocess.run(
        ["cargo", "test", "--workspace", "--doc", *cargo_args, *(["--", *binary_args] if binary_args else [])]
    ).returncode
    if doc != 0:
        failed.append("doc tests")
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print(f"all {len(binaries)} test binaries and the doc tests passed in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
