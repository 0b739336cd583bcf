"""Tests of the cargo settings notebooks/kernel/launch.py writes for every kernel build folder: valid TOML,
polars unoptimised, the project's crates without debug assertions and overflow checks, written only when it
differs."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

LAUNCH = Path(__file__).resolve().parent.parent / "kernel" / "launch.py"
spec = importlib.util.spec_from_file_location("launch", LAUNCH)
launch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch)


def test_config_is_toml_with_the_stated_profiles():
    packages = tomllib.loads(launch.cargo_config_text())["profile"]["dev"]["package"]
    for name in ("eiann", "eiann-plot"):
        assert packages[name] == {"debug-assertions": False, "overflow-checks": False}
    assert packages["polars"] == {"opt-level": 0}
    assert set(packages) == set(launch.POLARS_PACKAGES) | set(launch.CHECKED_OFF_PACKAGES)


def test_config_written_once_and_rewritten_when_it_differs(tmp_path: Path):
    launch.write_cargo_config(tmp_path)
    path = tmp_path / ".cargo" / "config.toml"
    assert path.read_text(encoding="utf-8") == launch.cargo_config_text()
    mtime = path.stat().st_mtime_ns
    launch.write_cargo_config(tmp_path)
    assert path.stat().st_mtime_ns == mtime
    path.write_text("# stale\n", encoding="utf-8")
    launch.write_cargo_config(tmp_path)
    assert path.read_text(encoding="utf-8") == launch.cargo_config_text()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]
