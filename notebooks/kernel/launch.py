#!/usr/bin/env python3
"""Start evcxr_jupyter with a persistent build folder taken from a small pool, so kernel starts reuse compiled work.

The `rust` kernel spec that notebooks/setup.sh writes runs this script instead of evcxr_jupyter itself:

    python launch.py {connection_file}

evcxr compiles every cell, and the crates that `:dep` lines name, in one build folder (EVCXR_TMPDIR). Kept
between kernel starts that folder makes a restart take seconds instead of minutes, but one folder serves one
kernel at a time. So the folders form a pool under `${EIANN_EVCXR_CACHE:-${XDG_CACHE_HOME:-~/.cache}/eiann-rs/evcxr}`:

* a notebook's folders are named after its `:dep` lines (`deps-<hash>-<slot>`): notebooks loading the same
  crates with the same features share warm folders. Jupyter names the notebook in JPY_SESSION_NAME; a kernel
  started without it (a console, `jupyter kernel`) uses the pool `deps-none-<slot>`;
* the kernel takes the first free slot under an exclusive lock (`flock` on `<folder>.lock`), held by the
  evcxr process itself (the lock file descriptor survives `exec`) and released by the operating system when
  the kernel ends, whatever way it ends. Two notebooks open at once get two folders; a second folder of the
  same notebook compiles its crates once and is warm from then on;
* a kernel restart may find its old folder still locked for a moment while the old process exits, so a
  kernel waits up to 8 s for an already-built folder before it takes a fresh one;
* at most 4 folders per set of `:dep` lines; past that the kernel builds in a temporary folder (evcxr's own
  default), which is deleted when it ends.

The toolchain's target libdir goes onto LD_LIBRARY_PATH: evcxr links cell code against libstd-*.so with a
relative RUNPATH that breaks when the build folder and ~/.rustup share a prefix (as ~/.cache does).

`python launch.py --print-folder NOTEBOOK` prints the folder name a notebook's kernels use (for tools).

`python launch.py --prebuild NOTEBOOK...` compiles each notebook's `:dep` crates into the first slot of its
pool with cargo alone, before evcxr_jupyter exists (notebooks/setup.sh runs it while evcxr_jupyter builds,
so the two builds share the cores). It writes the manifest evcxr writes (same `[profile.dev]`, the
notebooks' evcxr.toml opt_level, the `:dep` lines with paths made absolute) and runs cargo as evcxr does
(`build --target <host>`, CARGO_TARGET_DIR=target, RUSTFLAGS=-Cprefer-dynamic, the rustc `rustup which
rustc` names), so cargo's fingerprints of the dependencies match and the kernel's first `:dep` cell only
compiles its own small crate. A slot already built, or held by a kernel, is left alone.
"""

from __future__ import annotations

import fcntl
import re
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SLOTS = 4
WAIT_FOR_WARM_S = 8.0

# polars (the notebooks' small tables) is compiled without optimisation in the kernels' build folders:
# evcxr builds every `:dep` crate at its opt-level 2, and polars at 2 cost 14.5 CPU-minutes of a fresh
# population-notebook folder against 6.4 at 0 (measured side by side, 2026-12-02); the tables of a few
# hundred rows do not notice. eiann, ndarray and the cell code keep evcxr's opt-level 2. Package names
# that a folder does not use are ignored by cargo (no warning).
POLARS_PACKAGES = (
    "polars polars-arrow polars-arrow-format polars-async polars-buffer polars-compute polars-config "
    "polars-core polars-dtype polars-error polars-expr polars-io polars-lazy polars-mem-engine polars-ooc "
    "polars-ops polars-parquet polars-parquet-format polars-plan polars-row polars-schema polars-sql "
    "polars-stream polars-time polars-utils"
).split()

# The project's own crates are compiled as `cargo build --release` compiles them: without debug assertions and
# overflow checks, which evcxr's dev profile turns on for every crate. In eiann's kernels (the sweep, the
# evaluation passes) those checks made the reduced Figure 3 sweep 3.6x slower in the kernel than in the CLI
# (268 s against 74 s, 2026-12-03); neither changes a computed value (the checkpoints are byte-identical).
CHECKED_OFF_PACKAGES = ("eiann", "eiann-plot")


def cargo_config_text() -> str:
    lines = [
        "# Written by notebooks/kernel/launch.py (rewritten when it differs): cargo settings for every kernel",
        "# build folder below this folder (evcxr writes its own .cargo/config.toml inside each; cargo merges both).",
    ]
    for name in POLARS_PACKAGES:
        lines += ["", f"[profile.dev.package.{name}]", "opt-level = 0"]
    for name in CHECKED_OFF_PACKAGES:
        lines += ["", f"[profile.dev.package.{name}]", "debug-assertions = false", "overflow-checks = false"]
    return "\n".join(lines) + "\n"


def write_cargo_config(root: Path) -> None:
    """`<root>/.cargo/config.toml` with the profile settings above, written only when it differs."""
    path = root / ".cargo" / "config.toml"
    text = cargo_config_text()
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"config.toml.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # atomic: a kernel starting beside this one reads the old or the new file


def cache_root() -> Path:
    explicit = os.environ.get("EIANN_EVCXR_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eiann-rs" / "evcxr"


def dep_lines(notebook: Path) -> str:
    """The notebook's `:dep` lines, in order (they decide which compiled crates its kernel needs)."""
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    lines = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        lines += [line.strip() for line in source.splitlines() if line.strip().startswith(":dep")]
    return "\n".join(lines)


def pool_name(notebook: Path | None) -> str:
    """`deps-<12 hex digits>` for a readable notebook, `deps-none` otherwise."""
    if notebook is None:
        return "deps-none"
    try:
        deps = dep_lines(notebook)
    except (OSError, ValueError):
        return "deps-none"
    return "deps-" + hashlib.sha256(deps.encode()).hexdigest()[:12]


def session_notebook() -> Path | None:
    name = os.environ.get("JPY_SESSION_NAME")
    if not name:
        return None
    path = Path(name)
    if not path.is_absolute():
        path = Path.cwd() / path  # older servers pass a path relative to the kernel's folder
    return path if path.suffix == ".ipynb" and path.is_file() else None


def try_lock(folder: Path):
    """An open, exclusively locked `<folder>.lock`, or None when another kernel holds it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    f = open(folder.with_name(folder.name + ".lock"), "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


def is_warm(folder: Path) -> bool:
    return (folder / "target").is_dir()


def take_slot(root: Path, pool: str):
    """(folder, lock file) of a free slot of `pool`, or (None, None) when all are busy."""
    slots = [root / f"{pool}-{k}" for k in range(SLOTS)]
    deadline = time.monotonic() + WAIT_FOR_WARM_S
    while True:
        warm = [s for s in slots if is_warm(s)]
        for s in warm:
            lock = try_lock(s)
            if lock is not None:
                return s, lock
        if not warm or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    for s in slots:
        if not is_warm(s):
            lock = try_lock(s)
            if lock is not None:
                return s, lock
    return None, None


def toolchain_libdir() -> str | None:
    try:
        out = subprocess.run(
            ["rustc", "--print", "target-libdir"], check=True, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def evcxr_binary() -> str:
    explicit = os.environ.get("EIANN_EVCXR_JUPYTER")
    if explicit:
        return explicit
    cargo_bin = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo") / "bin" / "evcxr_jupyter"
    if cargo_bin.is_file():
        return str(cargo_bin)
    found = shutil.which("evcxr_jupyter")
    if found is None:
        sys.exit("eiann kernel: evcxr_jupyter not found (run `just setup`)")
    return found


# evcxr 0.22's manifest of a build folder (module.rs, get_cargo_toml_contents), with its opt_level and the
# `:dep` lines filled in. Only the profile and the dependencies decide the dependencies' fingerprints.
EVCXR_MANIFEST = """
[package]
name = "ctx"
version = "1.0.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[profile.dev]
opt-level = {opt_level}
debug = false
strip = "debuginfo"
rpath = true
lto = false
debug-assertions = true
codegen-units = 16
panic = 'unwind'
incremental = true
overflow-checks = true

[dependencies]
{deps}
"""

DEP_LINE = re.compile(r"^:dep\s+([A-Za-z0-9_-]+)\s*=\s*(\{.*\}|\"[^\"]*\")\s*$")
PATH_KEY = re.compile(r'path\s*=\s*"([^"]*)"')


class PrebuildError(Exception):
    pass


def manifest_dependencies(notebook: Path) -> str:
    """The `[dependencies]` lines evcxr writes for the notebook's `:dep` lines (paths relative to its folder)."""
    out = []
    for line in dep_lines(notebook).splitlines():
        m = DEP_LINE.match(line)
        if m is None:
            raise PrebuildError(f"{notebook}: cannot prebuild `{line}` (expected `:dep NAME = {{ ... }}` or `= \"VERSION\"`)")
        name, spec = m.groups()
        spec = PATH_KEY.sub(lambda p: f'path = "{(notebook.parent / p.group(1)).resolve()}"', spec)
        out.append(f"{name} = {spec}\n")
    if not out:
        raise PrebuildError(f"{notebook}: no `:dep` lines")
    return "".join(out)


def evcxr_opt_level(notebook: Path) -> str:
    """opt_level of the evcxr.toml in the notebook's folder (the kernel's working directory), else evcxr's 2."""
    path = notebook.parent / "evcxr.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "2"
    except OSError as e:
        raise PrebuildError(f"{path}: {e}") from e
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # older Pythons: the one key, by pattern
        m = re.search(r'^\s*opt_level\s*=\s*"?([0-3sz])"?\s*(#.*)?$', text, re.M)
        return m.group(1) if m else "2"
    try:
        return str(tomllib.loads(text).get("evcxr", {}).get("opt_level", "2"))
    except tomllib.TOMLDecodeError as e:
        raise PrebuildError(f"{path}: {e}") from e


def rust_tool(name: str) -> str:
    """The tool evcxr runs: `rustup which NAME` when rustup answers, else NAME on PATH (as evcxr chooses)."""
    try:
        out = subprocess.run(["rustup", "which", name], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    found = shutil.which(name)
    if found is None:
        raise PrebuildError(f"{name} not found (rustup which {name} failed and it is not on PATH)")
    return found


def host_target(rustc: str) -> str:
    out = subprocess.run([rustc, "-vV"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("host: "):
            return line.removeprefix("host: ").strip()
    raise PrebuildError(f"`{rustc} -vV` printed no host line: {out.stderr.strip()}")


def prebuild(notebooks: list[Path]) -> int:
    """Compile each distinct `:dep` set of `notebooks` into slot 0 of its pool; 0 when all are built."""
    root = cache_root()
    write_cargo_config(root)
    by_pool = {pool_name(nb): nb for nb in notebooks}
    failed = 0
    for pool, notebook in by_pool.items():
        folder = root / f"{pool}-0"
        try:
            deps = manifest_dependencies(notebook)
            opt_level = evcxr_opt_level(notebook)
            cargo, rustc = rust_tool("cargo"), rust_tool("rustc")
            target = host_target(rustc)
        except PrebuildError as e:
            print(f"prebuild: skipped {pool} ({e}); its first kernel compiles the crates", file=sys.stderr)
            continue
        if is_warm(folder):
            print(f"prebuild: {folder} already built", file=sys.stderr)
            continue
        lock = try_lock(folder)
        if lock is None:
            print(f"prebuild: {folder} is in use by a kernel; left alone", file=sys.stderr)
            continue
        with lock:
            (folder / "src").mkdir(parents=True, exist_ok=True)
            (folder / "src" / "lib.rs").write_text("", encoding="utf-8")
            (folder / ".cargo").mkdir(exist_ok=True)
            (folder / ".cargo" / "config.toml").write_text("\n[net]\noffline = false\n", encoding="utf-8")
            (folder / "Cargo.toml").write_text(EVCXR_MANIFEST.format(opt_level=opt_level, deps=deps), encoding="utf-8")
            env = dict(os.environ, CARGO_TARGET_DIR="target", CARGO_BUILD_BUILD_DIR="target", RUSTC=rustc,
                       RUSTFLAGS="-Cprefer-dynamic")
            print(f"prebuild: compiling the crates of {notebook.name} into {folder} ...", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            rc = subprocess.run([cargo, "build", "--target", target], cwd=folder, env=env).returncode
            if rc != 0:
                failed += 1
                print(f"prebuild: cargo failed in {folder} (exit {rc}); its first kernel will retry", file=sys.stderr)
            else:
                print(f"prebuild: {folder} built in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--print-folder":
        print(pool_name(Path(argv[2]).resolve()))
        return
    if len(argv) >= 3 and argv[1] == "--prebuild":
        sys.exit(prebuild([Path(a).resolve() for a in argv[2:]]))
    if len(argv) != 2:
        sys.exit("usage: launch.py CONNECTION_FILE | --print-folder NOTEBOOK | --prebuild NOTEBOOK...")
    connection_file = argv[1]
    evcxr = evcxr_binary()
    env = dict(os.environ)
    libdir = toolchain_libdir()
    if libdir:
        old = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = libdir + (os.pathsep + old if old else "")

    root = cache_root()
    write_cargo_config(root)
    pool = pool_name(session_notebook())
    folder, lock = take_slot(root, pool)
    if folder is None:
        env.pop("EVCXR_TMPDIR", None)
        print(f"eiann kernel: all {SLOTS} build folders of {pool} busy; using a temporary one", file=sys.stderr)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        env["EVCXR_TMPDIR"] = str(folder)
        os.set_inheritable(lock.fileno(), True)  # held by evcxr itself after exec
        state = "warm" if is_warm(folder) else "new (first start compiles the crates)"
        print(f"eiann kernel: build folder {folder} ({state})", file=sys.stderr)
    sys.stderr.flush()
    os.execve(evcxr, [evcxr, "--control_file", connection_file], env)


if __name__ == "__main__":
    main(sys.argv)
