#!/usr/bin/env bash
# Installs the notebook toolchain; idempotent, and fast (a few seconds) when everything is in place.
#
#   bash notebooks/setup.sh [--warm]
#
#   1. evcxr_jupyter (the Rust Jupyter kernel), pinned, via `cargo install --locked`, built in the
#      background while the rest runs;
#   2. a Python venv at <repo>/.venv (git-ignored) with the pinned packages of notebooks/requirements.txt
#      (JupyterLab, nbclient, pytest for the runner's tests, rust-just);
#   3. the kernel spec `rust`, written into the venv (<repo>/.venv/share/jupyter/kernels/rust) so the
#      venv's jupyter sees it without touching the user's Jupyter folders; it starts evcxr_jupyter through
#      notebooks/kernel/launch.py, which gives each kernel a persistent build folder (see that file);
#   4. with --warm: each distinct set of `:dep` lines of notebooks/*.ipynb gets its build folder compiled, so
#      the first kernel start in JupyterLab finds its crates compiled (minutes on a fresh machine, seconds
#      once done). The crates are compiled by cargo alone (`launch.py --prebuild`) while evcxr_jupyter is
#      still building, the two builds sharing the cores; then each `:dep` cell runs once in evcxr, which
#      finds the crates fresh and compiles only its own small crate.
# Needs only the Rust toolchain (cargo, rustc, a C linker) and python3 with venv. No Debian packages:
# the figures embed their font (crates/eiann-plot/assets/fonts), so no fontconfig or system fonts are used.
set -euo pipefail

EVCXR_VERSION="0.22.0" # newest release; builds with rustc 1.95 (~9 min on 2 busy cores, once)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="$repo/.venv"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

warm=0
while [ $# -gt 0 ]; do
    case "$1" in
    --warm) warm=1 ;;
    *) echo "setup.sh: unknown argument '$1' (expected --warm)" >&2; exit 2 ;;
    esac
    shift
done

# 1. evcxr_jupyter, in the background. (It has no --version flag; cargo's install list records the version.)
install_pid=""
install_log="$(mktemp "${TMPDIR:-/tmp}/evcxr-install.XXXXXX")"
prebuild_log="$(mktemp "${TMPDIR:-/tmp}/eiann-prebuild.XXXXXX")"
prebuild_pid=""
# On an early exit, stop the background prebuild too (evcxr's build is left to finish or fail on its own).
trap '[ -n "$prebuild_pid" ] && kill "$prebuild_pid" 2>/dev/null; rm -f "$install_log" "$prebuild_log"' EXIT
listed=0
cargo install --list | grep -qx "evcxr_jupyter v${EVCXR_VERSION}:" && listed=1
if [ "$listed" = 1 ] && [ -x "$cargo_bin/evcxr_jupyter" ]; then
    echo "evcxr_jupyter ${EVCXR_VERSION}: already installed"
else
    # Listed by cargo but the binary is gone (deleted by hand, a cleaned ~/.cargo/bin): reinstall over the record.
    force=()
    if [ "$listed" = 1 ]; then
        echo "evcxr_jupyter ${EVCXR_VERSION}: cargo lists it but $cargo_bin/evcxr_jupyter is missing; reinstalling"
        force=(--force)
    fi
    echo "evcxr_jupyter ${EVCXR_VERSION}: building with cargo in the background (several minutes on 2 cores; log $install_log) ..."
    # opt-level 1 instead of release's 3: the kernel's own work per cell (parsing, rust-analyzer's type of each
    # new variable) stays small beside rustc's, and the build, the longest step of a fresh `just figures`, is shorter.
    cargo install evcxr_jupyter --locked --version "$EVCXR_VERSION" --config 'profile.release.opt-level=1' \
        "${force[@]}" >"$install_log" 2>&1 &
    install_pid=$!
fi

# 4a. With --warm: the kernels' crates, compiled by cargo while evcxr_jupyter builds (a few seconds when done).
if [ "$warm" = 1 ]; then
    echo "kernel build folders: compiling the notebooks' crates with cargo (log $prebuild_log) ..."
    python3 "$here/kernel/launch.py" --prebuild "$here"/*.ipynb >"$prebuild_log" 2>&1 &
    prebuild_pid=$!
fi

# 2. Python venv with pinned packages (reinstalled only when requirements.txt changes).
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    python3 -m venv "$venv"
fi
stamp="$venv/.eiann-requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "installing notebooks/requirements.txt into $venv ..."
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" >"$stamp"
else
    echo "venv: requirements up to date"
fi

if [ -n "$install_pid" ]; then
    if ! wait "$install_pid"; then
        echo "error: cargo install evcxr_jupyter failed; its output:" >&2
        tail -n 40 "$install_log" >&2
        exit 1
    fi
    echo "evcxr_jupyter ${EVCXR_VERSION}: installed"
fi
evcxr="$cargo_bin/evcxr_jupyter"
if [ ! -x "$evcxr" ]; then
    evcxr="$(command -v evcxr_jupyter || true)"
    if [ -z "$evcxr" ]; then
        echo "error: evcxr_jupyter is neither at $cargo_bin/evcxr_jupyter nor on PATH after the install step" >&2
        exit 1
    fi
fi

# 3. Kernel spec inside the venv. evcxr_jupyter --install writes to $JUPYTER_PATH/kernels/rust when
# JUPYTER_PATH is set (else to the user's data dir); its argv is then replaced by the launcher.
kernel_dir="$venv/share/jupyter/kernels/rust"
launcher="$here/kernel/launch.py"
if [ ! -f "$kernel_dir/kernel.json" ] || ! grep -qF "$launcher" "$kernel_dir/kernel.json" ||
    ! grep -qF "$evcxr" "$kernel_dir/kernel.json"; then
    JUPYTER_PATH="$venv/share/jupyter" "$evcxr" --install >/dev/null
    "$venv/bin/python" - "$kernel_dir/kernel.json" "$venv/bin/python" "$launcher" "$evcxr" <<'EOF'
import json, sys
path, python, launcher, evcxr = sys.argv[1:]
spec = json.load(open(path))
spec["argv"] = [python, launcher, "{connection_file}"]
spec["env"] = {"EIANN_EVCXR_JUPYTER": evcxr}
json.dump(spec, open(path, "w"), indent=2)
EOF
    echo "kernel spec written to $kernel_dir"
fi

# Check: the venv's jupyter must list the kernel named `rust`.
if ! "$venv/bin/jupyter" kernelspec list | grep -qE "^[[:space:]]+rust[[:space:]]"; then
    echo "error: the venv's jupyter does not see the kernel 'rust'" >&2
    "$venv/bin/jupyter" kernelspec list >&2
    exit 1
fi
echo "ready: kernel 'rust' (evcxr_jupyter ${EVCXR_VERSION} via notebooks/kernel/launch.py) in $venv"

# 4b. Warm build folders: each `:dep` cell once in evcxr. A failed prebuild is not fatal (evcxr compiles
# whatever is missing), but its output is shown.
if [ -n "$prebuild_pid" ]; then
    if wait "$prebuild_pid"; then
        prebuild_pid=""
        grep -E "^prebuild:" "$prebuild_log" || true
    else
        prebuild_pid=""
        echo "warning: the cargo prebuild of the kernel build folders failed; evcxr compiles them instead:" >&2
        tail -n 30 "$prebuild_log" >&2
    fi
fi
if [ "$warm" = 1 ]; then
    "$venv/bin/python" "$here/run_notebooks.py" --warm "$here"/*.ipynb
fi
