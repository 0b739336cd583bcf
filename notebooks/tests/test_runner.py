"""Tests of notebooks/run_notebooks.py itself: each way a cell can fail makes the notebook FAIL, a clean
notebook PASSes, and rerunning it leaves the saved file byte-identical.

Every test writes a small notebook (no `:dep` lines, so cells compile in seconds) into a temporary folder
and runs the runner on it as `just figures` does, with the `rust` kernel of the repository's venv
(notebooks/setup.sh must have run: `just notebook-tests` does that first).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent / "run_notebooks.py"


def notebook(tmp_path: Path, *cells: str, name: str = "case.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Rust", "language": "rust", "name": "rust"}
    nb.cells = [nbformat.v4.new_markdown_cell("A test notebook of the runner.")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def run(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--timeout", "300", str(path)],
        capture_output=True,
        text=True,
        timeout=900,
    )


def assert_fails(path: Path, *needles: str) -> str:
    res = run(path)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert f"FAIL {path.name}" in out, out
    assert "notebooks: 0 passed, 1 failed" in out, out
    for n in needles:
        assert n in out, f"{n!r} not in:\n{out}"
    return out


def test_clean_notebook_passes_and_a_rerun_changes_nothing(tmp_path):
    path = notebook(
        tmp_path,
        "let x: i32 = \"41\".parse()?;\nprintln!(\"x + 1 = {}\", x + 1);",
        "assert_eq!(x + 1, 42);\nprintln!(\"timing: step took {:.1} ms\", 12.34 * (x as f64));",
        "x * 2",
    )
    res = run(path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"PASS {path.name}" in res.stdout and "notebooks: 1 passed, 0 failed" in res.stdout
    first = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    texts = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert "x + 1 = 42\n" in texts
    assert "timing: step took … ms\n" in texts, texts  # the number of a timing line is not saved
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "82"
    assert all("execution" not in c.metadata for c in nb.cells)
    res = run(path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert path.read_bytes() == first


def test_progress_lines_are_not_saved(tmp_path):
    # What a run did (trained now, found finished) depends on the machine's state, not on the code: a first
    # run and a rerun must save the same notebook. The cell decides by a file it creates itself.
    marker = tmp_path / "done"
    path = notebook(
        tmp_path,
        f"let marker = std::path::Path::new(\"{marker}\");\n"
        "if marker.exists() { println!(\"progress: found finished\"); }\n"
        "else { std::fs::write(marker, b\"x\").unwrap(); println!(\"progress: trained now\"); }\n"
        "println!(\"runs: 1\");",
        "println!(\"progress: only progress here\");",
    )
    res = run(path)
    assert res.returncode == 0, res.stdout + res.stderr
    first = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    texts = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert texts == ["runs: 1\n"], texts  # the progress lines are gone; an output left empty is dropped
    assert marker.exists()
    res = run(path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert path.read_bytes() == first


def test_question_mark_error_fails(tmp_path):
    # evcxr prints the Err to stderr and still answers "ok" to the execute request.
    path = notebook(tmp_path, 'let n: i32 = "abc".parse()?;\nprintln!("{n}");')
    assert_fails(path, "invalid digit")


def test_panic_fails(tmp_path):
    path = notebook(tmp_path, "let v: Vec<i32> = Vec::new();\nprintln!(\"{}\", v[3]);")
    assert_fails(path, "index out of bounds")


def test_failed_assert_fails(tmp_path):
    path = notebook(tmp_path, "let two = 1 + 1;", "assert_eq!(two, 3, \"two is not three\");")
    assert_fails(path, "two is not three")


def test_compile_error_fails(tmp_path):
    path = notebook(tmp_path, 'let x: i32 = "not a number";')
    assert_fails(path, "mismatched types")


def test_dead_kernel_child_fails(tmp_path):
    path = notebook(tmp_path, "std::process::abort();")
    assert_fails(path, "cell 1")


def test_stderr_text_fails(tmp_path):
    # Text written mid-cell; the next test writes it as the cell's very last act.
    path = notebook(
        tmp_path,
        'eprintln!("warning: something went wrong");\nstd::thread::sleep(std::time::Duration::from_millis(300));',
    )
    assert_fails(path, "wrote to stderr", "something went wrong")


def test_stderr_text_at_the_very_end_fails(tmp_path):
    # evcxr forwards stderr from a thread, so this text can arrive after the kernel reported the cell
    # finished; the runner's StderrWatch keeps it and its closing marker waits for it.
    path = notebook(tmp_path, 'eprintln!("warning: something went wrong");')
    assert_fails(path, "wrote to stderr", "something went wrong")


def test_cells_after_a_failure_do_not_run_and_keep_no_stale_output(tmp_path):
    path = notebook(tmp_path, "panic!(\"stop here\");", 'println!("after the failure");')
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale output\n")]
    nbformat.write(nb, path)
    out = assert_fails(path, "stop here")
    saved = path.read_text()
    assert "stale output" not in saved and "after the failure\\n" not in saved, out


def test_missing_notebook_is_a_usage_error(tmp_path):
    res = subprocess.run([sys.executable, str(RUNNER), str(tmp_path / "nope.ipynb")], capture_output=True, text=True)
    assert res.returncode == 2 and "no such notebook" in res.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
