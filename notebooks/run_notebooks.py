#!/usr/bin/env python3
"""Execute Rust (evcxr) notebooks headlessly; a notebook passes only if no cell failed in any way.

Usage (inside the venv made by notebooks/setup.sh):

    .venv/bin/python notebooks/run_notebooks.py notebooks/*.ipynb [--timeout 1800] [--jobs N]
    .venv/bin/python notebooks/run_notebooks.py --warm notebooks/*.ipynb   # only the `:dep` cells
    .venv/bin/python notebooks/run_notebooks.py --cell-times NOTEBOOK       # also each cell's wall time

For each notebook:

* starts the kernel `rust` — the very kernel spec `just lab` uses (notebooks/kernel/launch.py), so the
  notebook gets the same persistent evcxr build folder as in JupyterLab (named after its `:dep` lines, one
  kernel per folder, under a lock; see launch.py) — with the notebook's folder as working directory, so
  evcxr reads that folder's `evcxr.toml` and relative paths resolve as in JupyterLab;
* sends `:preserve_vars_on_panic 0` before the first cell (not stored in the notebook): in CI a panic must
  end the run, not let later cells go on with half the variables. Interactive kernels keep evcxr's
  default (variables survive a panic);
* runs every cell, stops at the first failing one and saves the notebook in place with its outputs (also
  when it fails). A notebook FAILS on any of: an `error` output (compile errors, evcxr's `Err`), any text a
  cell writes to stderr, also text evcxr forwards after the cell reported finished (`StderrWatch`; evcxr reports a `?` error, a panic or a dead child process there and still
  answers "ok"), a panic or compiler error in any output text, a dead kernel, a timeout;
* keeps saved notebooks stable, so rerunning unchanged code leaves `git diff` empty: no execution-timing
  metadata, and the numbers of output lines that start with `timing:` (wall times, which vary per run)
  are replaced by `…` (the line itself stays, so the saved notebook still shows what was timed); output
  lines that start with `progress:` (what this particular run did, e.g. "trained now" versus "found
  finished") are shown while the cell runs and not saved, so a first run on a fresh clone and a rerun save
  the same notebook.

Notebooks with the same `:dep` lines share a lane (and its warm build folder) and run one after the other;
lanes run side by side (`--jobs`, default: one per core). `--warm` runs only each lane's `:dep` cells, once:
it fills the build folders (`just setup` does this) and saves nothing.

Prints one line per notebook with its wall time and a closing `notebooks: N passed, M failed`; exits 1 if
any notebook failed, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

KERNEL = "rust"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "kernel"))
from launch import dep_lines, pool_name  # noqa: E402  (one definition of a notebook's build folder)

# Text that means a cell failed, in whatever output it appears.
FAILURE_PATTERNS = [
    re.compile(r"panicked at"),
    re.compile(r"^\s*error(\[E\d{4}\])?:", re.MULTILINE),
    re.compile(r"Child process terminated", re.IGNORECASE),
    re.compile(r"Subprocess terminated", re.IGNORECASE),
    re.compile(r"EVCXR_ERROR"),
]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMING_LINE = re.compile(r"^(\s*timing:.*)$", re.MULTILINE)
PROGRESS_LINE = re.compile(r"^\s*progress:.*(?:\n|$)", re.MULTILINE)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")


def output_text(out: dict) -> str:
    """All human-readable text of one output (streams, error tracebacks, text/plain data)."""
    kind = out.get("output_type")
    if kind == "stream":
        return out.get("text", "")
    if kind == "error":
        return "\n".join([out.get("ename", ""), out.get("evalue", "")] + list(out.get("traceback", [])))
    text = out.get("data", {}).get("text/plain", "")
    return text if isinstance(text, str) else "".join(text)


def problems(nb) -> list[str]:
    """Every failure found in the saved outputs, one message per bad output."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            text = ANSI.sub("", output_text(out))
            short = " | ".join(text.strip().splitlines()[:4])[:300]
            if out.get("output_type") == "error":
                found.append(f"cell {i}: error: {short}")
                continue
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: wrote to stderr: {short}")
                continue
            for pat in FAILURE_PATTERNS:
                m = pat.search(text)
                if m:
                    line = text[max(0, m.start() - 80) : m.end() + 160].strip().replace("\n", " | ")
                    found.append(f"cell {i}: {out.get('output_type')} output matches {pat.pattern!r}: {line}")
                    break
    return found


def stabilise(nb) -> None:
    """Remove what changes between runs of unchanged code: timing metadata, timed numbers and progress
    lines (a stdout output left empty by them is dropped)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                out["text"] = PROGRESS_LINE.sub("", out.get("text", ""))
                if not out["text"]:
                    continue
            kept.append(out)
        cell["outputs"] = kept
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = TIMING_LINE.sub(lambda m: NUMBER.sub("…", m.group(1)), out.get("text", ""))
            elif "text/plain" in out.get("data", {}):
                text = out["data"]["text/plain"]
                if isinstance(text, str):
                    out["data"]["text/plain"] = TIMING_LINE.sub(lambda m: NUMBER.sub("…", m.group(1)), text)


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


SYNC_MARK = "\x01eiann-runner-sync\x01"
SYNC_CODE = 'eprintln!("\\u{1}eiann-runner-sync\\u{1}");'  # the Rust that writes SYNC_MARK to stderr


class StderrWatch:
    """Every stderr text the kernel sends, whatever request it answers, so that no text is lost.

    evcxr forwards its child process's stderr from a thread, so text a cell wrote can reach the kernel's
    output channel after the kernel reported the cell finished; nbclient then drops it (it reads only the
    messages of the cell it is running). This wraps the client's iopub channel, keeps every stderr
    stream message with the request it answers, and puts any text a cell's outputs lack back into that
    cell (`attach_late`), so `problems` sees it. `sync` ends a run: it runs a cell that writes a marker
    to the child's stderr — the same pipe, so everything written before it has been forwarded once the
    marker arrives — and attaches what came late.
    """

    def __init__(self, client: NotebookClient):
        self.client = client
        self.cell = -1
        self.cell_of: dict[str, int] = {}  # execute request id -> cell index
        self.texts: list[tuple[str, str]] = []  # (request id, text) of every stderr stream message
        self.attached: set[int] = set()
        self.marked = False
        kc = client.kc
        assert kc is not None
        execute, get_msg = kc.execute, kc.iopub_channel.get_msg

        def execute_and_note(*args, **kwargs):
            msg_id = execute(*args, **kwargs)
            self.cell_of[msg_id] = self.cell
            return msg_id

        async def get_msg_and_note(*args, **kwargs):
            msg = await ensure_async(get_msg(*args, **kwargs))
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream" and content.get("name") == "stderr":
                text = content.get("text", "")
                if SYNC_MARK in text:
                    self.marked = True
                    text = text.replace(SYNC_MARK, "").strip("\n")
                if text:
                    self.texts.append((msg.get("parent_header", {}).get("msg_id", ""), text))
            return msg

        kc.execute = execute_and_note
        kc.iopub_channel.get_msg = get_msg_and_note

    def attach_late(self, nb) -> None:
        """Add to each cell the stderr text it wrote that its outputs do not show."""
        for i, (msg_id, text) in enumerate(self.texts):
            cell = self.cell_of.get(msg_id)
            if i in self.attached or cell is None or cell < 0:
                continue
            self.attached.add(i)
            shown = "".join(o.get("text", "") for o in nb.cells[cell].get("outputs", []) if o.get("name") == "stderr")
            if text.strip() and text.strip() not in shown:
                nb.cells[cell].outputs.append(nbformat.v4.new_output("stream", name="stderr", text=text))

    async def sync(self, nb, timeout: float = 60) -> None:
        """Wait until the child's stderr has been forwarded up to a marker, then attach what came late."""
        kc = self.client.kc
        assert kc is not None
        # Late text of the last code cell may come tagged with the marker's request: it belongs to that cell.
        self.cell = max((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), default=-1)
        kc.execute(SYNC_CODE, store_history=False)
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.marked:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise RuntimeError(f"the stderr marker did not arrive within {timeout:.0f} s")
            try:
                await kc.iopub_channel.get_msg(timeout=left)
            except queue.Empty:
                continue
        self.attach_late(nb)


async def run_notebook(
    path: Path, timeout: int, startup_timeout: int, warm_only: bool = False, cell_times: bool = False
) -> tuple[bool, list[str]]:
    nb = nbformat.read(path, as_version=4)
    if warm_only:
        nb.cells = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(":dep")]
    for cell in nb.cells:  # no output of an earlier run may survive next to this run's
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        startup_timeout=startup_timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # JupyterLab names the notebook to its kernel this way; launch.py picks the build folder from it.
    env = dict(os.environ, JPY_SESSION_NAME=str(path))
    messages: list[str] = []
    ok = True
    try:
        async with client.async_setup_kernel(env=env):
            seen: list[str] = []

            def hook(msg: dict) -> None:
                content = msg.get("content", {})
                seen.append(str(content.get("data", {}).get("text/plain", content.get("text", ""))))

            assert client.kc is not None
            # Sent straight to the kernel, not through the notebook (which must stay as the user wrote it).
            await client.kc.execute_interactive(
                ":preserve_vars_on_panic 0", store_history=False, output_hook=hook, timeout=60
            )
            if "Preserve vars on panic: false" not in "".join(seen):
                return False, [f"kernel did not confirm preserve_vars_on_panic = false: {seen!r}"]
            stderr = StderrWatch(client)
            for index, cell in enumerate(nb.cells):
                stderr.cell = index
                t_cell = time.perf_counter()
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                if cell_times and cell.cell_type == "code":
                    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                    print(f"    {path.name} cell {index}: {time.perf_counter() - t_cell:6.1f} s  {first}", flush=True)
                stderr.attach_late(nb)
                if problems(nb):
                    break  # a `?` error or panic answered "ok": stop here as for any failing cell
            else:
                await stderr.sync(nb)
    except CellTimeoutError as e:
        ok = False
        messages.append(f"cell timed out after {timeout} s: {str(e).splitlines()[0][:200]}")
    except DeadKernelError as e:
        ok = False
        messages.append(f"kernel died: {e}")
    except CellExecutionError:
        ok = False  # the error output itself is reported by problems()
    except RuntimeError as e:  # nbclient: kernel failed to start, or died before answering
        ok = False
        messages.append(f"kernel error: {e}")
    finally:
        if not warm_only:
            stabilise(nb)
            nbformat.write(nb, path)
    found = problems(nb)
    return ok and not found, messages + found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds (default 1800)")
    ap.add_argument("--startup-timeout", type=int, default=120, help="kernel start timeout in seconds")
    ap.add_argument("--jobs", type=int, default=0, help="lanes run side by side (default 0: one per core)")
    ap.add_argument("--warm", action="store_true", help="run only the :dep cells, once per set of :dep lines")
    ap.add_argument("--cell-times", action="store_true", help="print each code cell's wall time (not saved)")
    args = ap.parse_args()

    paths = [p.resolve() for p in args.notebooks]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    lanes = lanes_of(paths, jobs)
    if args.warm:  # one notebook per distinct set of :dep lines is enough
        lanes = [[p] for p in {dep_lines(p): p for p in paths}.values()]
    total = time.perf_counter()

    async def run_lane(lane: list[Path]) -> int:
        failed = 0
        for path in lane:
            t0 = time.perf_counter()
            ok, messages = await run_notebook(path, args.timeout, args.startup_timeout, args.warm, args.cell_times)
            dt = time.perf_counter() - t0
            what = f"build folder {pool_name(path)} for {path.name}" if args.warm else path.name
            print(f"{'PASS' if ok else 'FAIL'} {what}  {dt:.1f} s", flush=True)
            for m in messages:
                print(f"    {m}", flush=True)
            failed += not ok
        return failed

    async def run_all() -> int:
        return sum(await asyncio.gather(*(run_lane(lane) for lane in lanes)))

    print(
        f"{'warming' if args.warm else 'running'} {sum(map(len, lanes))} notebook(s) in {len(lanes)} lane(s): "
        + "; ".join(" -> ".join(p.name for p in lane) for lane in lanes),
        flush=True,
    )
    failed = asyncio.run(run_all())
    n = sum(map(len, lanes))
    print(f"total {time.perf_counter() - total:.1f} s")
    print(f"notebooks: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
