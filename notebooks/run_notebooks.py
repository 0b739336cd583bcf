#!/usr/bin/env python3
"""Execute Rust (evcxr) notebooks headlessly and fail on any error, panic or compile error.

Usage (inside the venv made by notebooks/setup.sh):

    .venv/bin/python notebooks/run_notebooks.py notebooks/*.ipynb [--timeout 1800]

For each notebook, in the order given:

* starts the `rust` kernel (evcxr_jupyter) with the notebook's own folder as working directory, so
  evcxr reads that folder's `evcxr.toml` and relative paths in the notebook resolve as in JupyterLab;
* sets EVCXR_TMPDIR to a persistent cache outside the clone,
  `${XDG_CACHE_HOME:-$HOME/.cache}/eiann-rs/evcxr/<lane>`, so compiled dependencies survive between
  runs (first run of a fresh machine compiles the crate inside evcxr: minutes; later runs: seconds),
  with the toolchain's libdir on LD_LIBRARY_PATH (evcxr's relative rpath to libstd breaks there);
  a lock file keeps two runners from sharing those build folders at once;
* runs notebooks in lanes, side by side (`--jobs`, default: one lane per core): notebooks with the same
  `:dep` lines (the same crate features, hence the same compiled dependencies) share a lane and its
  build folder and run one after the other; different lanes have different build folders, since one
  evcxr build folder cannot serve two kernels at once. Each kernel compiles cells single-threaded most
  of the time, so two lanes use the two cores of a small machine;
* sends `:preserve_vars_on_panic 0` before the first cell (not stored in the notebook): a panic then
  drops all variables instead of letting later cells run on half-updated state. notebooks/evcxr.toml
  sets the same for interactive JupyterLab sessions;
* runs every cell with a generous per-cell timeout, stops at the first failing cell, and saves the
  notebook in place with all outputs (also when it fails);
* judges the result: any `error` output, or any output text that contains a Rust panic
  ("panicked at"), a compiler error ("error[E…]" / "error:") or a dead kernel child process, fails the
  notebook — evcxr reports some failures (panics in particular) as plain stderr stream text.

Prints one line per notebook with its wall time; exits 1 if any notebook failed, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

KERNEL = "rust"

# Text that means a cell failed even when the kernel did not send an `error` message.
FAILURE_PATTERNS = [
    re.compile(r"panicked at"),
    re.compile(r"^\s*error(\[E\d{4}\])?:", re.MULTILINE),
    re.compile(r"Child process terminated", re.IGNORECASE),
    re.compile(r"Subprocess terminated", re.IGNORECASE),
    re.compile(r"EVCXR_ERROR"),
]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eiann-rs" / "evcxr"


def output_text(out: dict) -> str:
    """All human-readable text of one output (streams, error tracebacks, text/plain data)."""
    kind = out.get("output_type")
    if kind == "stream":
        return out.get("text", "")
    if kind == "error":
        return "\n".join([out.get("ename", ""), out.get("evalue", "")] + list(out.get("traceback", [])))
    data = out.get("data", {})
    return data.get("text/plain", "") if isinstance(data.get("text/plain", ""), str) else ""


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def problems(nb) -> list[str]:
    """Failures found in the saved outputs: one message per bad output."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            text = ANSI.sub("", output_text(out))
            if out.get("output_type") == "error":
                first = text.strip().splitlines()[:3]
                found.append(f"cell {i}: error output: {' | '.join(first)[:300]}")
                continue
            for pat in FAILURE_PATTERNS:
                m = pat.search(text)
                if m:
                    line = text[max(0, m.start() - 80) : m.end() + 160].strip().replace("\n", " | ")
                    found.append(f"cell {i}: {out.get('output_type')} output matches {pat.pattern!r}: {line}")
                    break
    return found


def dep_lines(path: Path) -> str:
    """The notebook's `:dep` lines (they decide which compiled dependencies its kernel needs)."""
    nb = nbformat.read(path, as_version=4)
    lines = [
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip().startswith(":dep")
    ]
    return "\n".join(lines)


def lanes_of(paths: list[Path], jobs: int) -> list[list[Path]]:
    """Group notebooks by their `:dep` lines (first-seen order), then merge the smallest groups until
    there are at most `jobs` lanes. Notebooks keep their given order within a lane."""
    groups: dict[str, list[Path]] = {}
    for p in paths:
        groups.setdefault(dep_lines(p), []).append(p)
    lanes = list(groups.values())
    while len(lanes) > max(1, jobs):
        lanes.sort(key=len)
        first, second = lanes.pop(0), lanes.pop(0)
        lanes.append(first + second)
    return lanes


def lane_dir(cache: Path, lane: list[Path]) -> Path:
    """A build folder named after the lane's `:dep` lines, stable across runs and clones."""
    key = "\n\n".join(sorted({dep_lines(p) for p in lane}))
    return cache / ("deps-" + hashlib.sha256(key.encode()).hexdigest()[:12])


async def run_notebook(
    path: Path, timeout: int, startup_timeout: int, env: dict[str, str]
) -> tuple[bool, list[str]]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        startup_timeout=startup_timeout,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    messages: list[str] = []
    ok = True
    try:
        async with client.async_setup_kernel(env=env):
            # Sent straight to the kernel (not through the notebook, which must stay untouched).
            seen: list[str] = []

            def hook(msg: dict) -> None:
                content = msg.get("content", {})
                seen.append(str(content.get("data", {}).get("text/plain", content.get("text", ""))))

            assert client.kc is not None
            await client.kc.execute_interactive(
                ":preserve_vars_on_panic 0", store_history=False, output_hook=hook, timeout=60
            )
            if "Preserve vars on panic: false" not in "".join(seen):
                return False, [f"kernel did not confirm preserve_vars_on_panic = false: {seen!r}"]
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
    except CellTimeoutError as e:
        ok = False
        messages.append(f"cell timed out after {timeout} s: {str(e).splitlines()[0][:200]}")
    except DeadKernelError as e:
        ok = False
        messages.append(f"kernel died: {e}")
    except CellExecutionError:
        ok = False  # the error output itself is reported by problems()
    finally:
        nbformat.write(nb, path)
    found = problems(nb)
    return ok and not found, messages + found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds (default 1800)")
    ap.add_argument("--startup-timeout", type=int, default=120, help="kernel start timeout in seconds")
    ap.add_argument(
        "--jobs", type=int, default=0, help="lanes run side by side (default 0: one per core)"
    )
    args = ap.parse_args()

    paths = [p.resolve() for p in args.notebooks]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2

    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    # evcxr links cell code against the toolchain's libstd-*.so through a *relative* RUNPATH, which
    # is wrong when the build folder and ~/.rustup share a prefix (as ~/.cache does): the kernel then
    # dies with "dlopen failed". Putting the toolchain's target libdir on LD_LIBRARY_PATH fixes it.
    try:
        libdir = subprocess.run(
            ["rustc", "--print", "target-libdir"], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"cannot run rustc: {e}", file=sys.stderr)
        return 2
    old = os.environ.get("LD_LIBRARY_PATH")
    os.environ["LD_LIBRARY_PATH"] = libdir + (os.pathsep + old if old else "")
    lock = open(cache.parent / "evcxr.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for another notebook run using {cache} ...", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)

    for path in paths:
        if not (path.parent / "evcxr.toml").is_file():
            print(f"note: {path.parent}/evcxr.toml not found; relying on the runner's preflight only")
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    lanes = lanes_of(paths, jobs)
    total = time.perf_counter()

    async def run_lane(lane: list[Path]) -> int:
        build = lane_dir(cache, lane)
        build.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, EVCXR_TMPDIR=str(build))
        failed = 0
        for path in lane:
            t0 = time.perf_counter()
            ok, messages = await run_notebook(path, args.timeout, args.startup_timeout, env)
            dt = time.perf_counter() - t0
            print(f"{'PASS' if ok else 'FAIL'} {path.name}  {dt:.1f} s", flush=True)
            for m in messages:
                print(f"    {m}", flush=True)
            failed += not ok
        return failed

    async def run_all() -> int:
        return sum(await asyncio.gather(*(run_lane(lane) for lane in lanes)))

    print(
        f"{len(paths)} notebook(s) in {len(lanes)} lane(s) side by side: "
        + "; ".join(" -> ".join(p.name for p in lane) for lane in lanes),
        flush=True,
    )
    failed = asyncio.run(run_all())
    n = len(paths)
    print(f"total {time.perf_counter() - total:.1f} s (evcxr cache {cache})")
    print(f"notebooks: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
