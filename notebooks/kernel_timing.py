#!/usr/bin/env python3
"""Kernel start-up times through a real Jupyter server, as JupyterLab sees them.

Usage (inside the venv made by notebooks/setup.sh; `just kernel-timing` runs it):

    .venv/bin/python notebooks/kernel_timing.py [--cells 2] [NOTEBOOK ...]

Starts `jupyter server` from the venv on a free localhost port (a random token, no browser), then for each
notebook (default: the rate and the population notebook), as JupyterLab does when a notebook is opened:

1. creates a session for the notebook with the kernel `rust` (the kernel spec `just lab` uses, so the
   kernel gets its persistent build folder from notebooks/kernel/launch.py) and runs its first `--cells`
   code cells over the kernel's websocket: "open";
2. restarts that kernel through the server's REST API and runs the same cells again: "restart".

Prints one line per notebook and step with the wall time from the request to the last cell's reply, and
exits 1 if a cell failed (an `error` reply or stderr text). Run `just setup` (or `just figures`) first:
the times measure warm build folders; a cold folder compiles the crates (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
from tornado import ioloop, websocket

HERE = Path(__file__).resolve().parent
DEFAULT = ["figure3_rate_dynamics.ipynb", "figure3_population.ipynb"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, venv: Path):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        args = [
            str(venv / "bin" / "jupyter"), "server", "--no-browser", f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={HERE}",
        ]
        if os.geteuid() == 0:
            args.append("--allow-root")
        self.log = open(HERE.parent / "target" / "kernel_timing_server.log", "w") if (HERE.parent / "target").is_dir() \
            else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.request("GET", "/api/status")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("kernel_timing: jupyter server did not start (see target/kernel_timing_server.log)")
                time.sleep(0.3)

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=600) as r:
            text = r.read()
        return json.loads(text) if text else {}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def run_cells(server: Server, kernel_id: str, cells: list[str]) -> list[str]:
    """Execute `cells` one after the other on the kernel's websocket; returns the failures seen."""
    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?token={server.token}"
    ws = await websocket.websocket_connect(url)
    session = uuid.uuid4().hex
    failures: list[str] = []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "session": session, "username": "timing", "msg_type": "execute_request",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            replied = idle = False
            while not (replied and idle):
                raw = await ws.read_message()
                if raw is None:
                    failures.append("websocket closed (dead kernel?)")
                    return failures
                m = json.loads(raw)
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = m["header"]["msg_type"]
                if kind == "execute_reply":
                    replied = True
                    if m["content"].get("status") != "ok":
                        failures.append(f"{m['content'].get('ename')}: {m['content'].get('evalue')}")
                elif kind == "status" and m["content"].get("execution_state") == "idle":
                    idle = True
                elif kind == "stream" and m["content"].get("name") == "stderr":
                    failures.append(m["content"].get("text", "").strip()[:300])
                elif kind == "error":
                    failures.append(f"{m['content'].get('ename')}: {m['content'].get('evalue')}")
    finally:
        ws.close()
    return failures


def first_code_cells(path: Path, n: int) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"][:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks (default: the rate and the population notebook)")
    ap.add_argument("--cells", type=int, default=2, help="code cells to run after the start (default 2)")
    a = ap.parse_args()
    if not 1 <= a.cells <= 1000:
        print("kernel_timing: --cells must be in 1..=1000", file=sys.stderr)
        return 2
    paths = [Path(p).resolve() for p in a.notebooks] or [HERE / n for n in DEFAULT]
    for p in paths:
        if not p.is_file() or p.parent != HERE:
            print(f"kernel_timing: {p} is not a notebook in {HERE}", file=sys.stderr)
            return 2
    venv = Path(sys.prefix)
    server = Server(venv)
    loop = ioloop.IOLoop.current()
    bad = 0
    try:
        for p in paths:
            cells = first_code_cells(p, a.cells)
            t0 = time.monotonic()
            s = server.request("POST", "/api/sessions",
                               {"path": p.name, "type": "notebook", "name": p.name, "kernel": {"name": "rust"}})
            kid = s["kernel"]["id"]
            fails = loop.run_sync(lambda: run_cells(server, kid, cells))
            t_open = time.monotonic() - t0
            t1 = time.monotonic()
            server.request("POST", f"/api/kernels/{kid}/restart")
            fails += loop.run_sync(lambda: run_cells(server, kid, cells))
            t_restart = time.monotonic() - t1
            server.request("DELETE", f"/api/sessions/{s['id']}")
            status = "ok" if not fails else "FAILED: " + " | ".join(fails)
            bad += bool(fails)
            print(f"{p.name}: open + {len(cells)} cells {t_open:.1f} s; restart + {len(cells)} cells {t_restart:.1f} s; {status}")
    finally:
        server.stop()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
