"""Tests of `launch.py --prebuild`: the manifest it writes for a notebook's `:dep` lines, its errors, and, with
the real kernel, that evcxr then finds the prebuilt crates fresh (writes the same manifest and recompiles
nothing but its own crate). The kernel test needs the repository's venv and kernel (`just notebook-tests`).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
LAUNCH = HERE.parent / "kernel" / "launch.py"
RUNNER = HERE.parent / "run_notebooks.py"
spec = importlib.util.spec_from_file_location("launch", LAUNCH)
launch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch)


def notebook(folder: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Rust", "language": "rust", "name": "rust"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = folder / "case.ipynb"
    nbformat.write(nb, path)
    return path


def test_dependencies_resolve_paths_against_the_notebook_folder(tmp_path: Path):
    nb = notebook(
        tmp_path,
        ':dep tiny = { path = "../tiny", features = ["x"] }\n:dep polars = { version = "0.55.2" }\n:dep regex = "1"',
    )
    deps = launch.manifest_dependencies(nb)
    assert deps == (
        f'tiny = {{ path = "{(tmp_path.parent / "tiny").resolve()}", features = ["x"] }}\n'
        'polars = { version = "0.55.2" }\n'
        'regex = "1"\n'
    )


@pytest.mark.parametrize("line", [":dep regex", ":dep tiny = { path =", ":dep = \"1\""])
def test_lines_it_cannot_read_are_named(tmp_path: Path, line: str):
    nb = notebook(tmp_path, line)
    with pytest.raises(launch.PrebuildError) as e:
        launch.manifest_dependencies(nb)
    assert str(nb) in str(e.value) and line in str(e.value)


def test_opt_level_from_evcxr_toml(tmp_path: Path):
    nb = notebook(tmp_path, ':dep regex = "1"')
    assert launch.evcxr_opt_level(nb) == "2"  # evcxr's default, no file
    (tmp_path / "evcxr.toml").write_text('[evcxr]\nopt_level = "1"\n', encoding="utf-8")
    assert launch.evcxr_opt_level(nb) == "1"
    (tmp_path / "evcxr.toml").write_text("[evcxr\n", encoding="utf-8")
    with pytest.raises(launch.PrebuildError, match="evcxr.toml"):
        launch.evcxr_opt_level(nb)
    assert launch.evcxr_opt_level(HERE.parent / "figure3_rate_dynamics.ipynb") == "2"


def test_kernel_finds_the_prebuilt_crates_fresh(tmp_path: Path):
    crate = tmp_path / "tiny"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n', encoding="utf-8")
    (crate / "src" / "lib.rs").write_text("pub fn answer() -> i32 { 42 }\n", encoding="utf-8")
    work = tmp_path / "nb"
    work.mkdir()
    nb = notebook(work, ':dep tiny = { path = "../tiny" }', "assert_eq!(tiny::answer(), 42);")
    cache = tmp_path / "cache"
    env = dict(os.environ, EIANN_EVCXR_CACHE=str(cache))

    pre = subprocess.run([sys.executable, str(LAUNCH), "--prebuild", str(nb)], env=env, capture_output=True, text=True)
    assert pre.returncode == 0, pre.stderr
    folder = cache / f"{launch.pool_name(nb)}-0"
    manifest = (folder / "Cargo.toml").read_text(encoding="utf-8")
    rlibs = sorted(folder.glob("target/*/debug/deps/libtiny-*.rlib"))
    assert len(rlibs) == 1, list(folder.rglob("*tiny*"))
    built = rlibs[0].stat().st_mtime_ns

    # A second prebuild leaves a built folder alone.
    again = subprocess.run([sys.executable, str(LAUNCH), "--prebuild", str(nb)], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "already built" in again.stderr, again.stderr

    res = subprocess.run(
        [sys.executable, str(RUNNER), "--timeout", "300", str(nb)], env=env, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"build folder {folder} (warm)" in res.stdout + res.stderr
    assert (folder / "Cargo.toml").read_text(encoding="utf-8") == manifest  # evcxr wrote the same manifest
    assert sorted(folder.glob("target/*/debug/deps/libtiny-*.rlib")) == rlibs
    assert rlibs[0].stat().st_mtime_ns == built  # and did not recompile the dependency
