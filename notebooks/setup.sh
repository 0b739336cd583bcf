#!/usr/bin/env bash
# Installs the notebook toolchain; idempotent, and fast (a few seconds) when everything is in place:
#   1. evcxr_jupyter (the Rust Jupyter kernel), pinned, via `cargo install --locked`;
#   2. a Python venv at <repo>/.venv (git-ignored) with the pinned packages of notebooks/requirements.txt;
#   3. the kernel spec `rust`, written into the venv (<repo>/.venv/share/jupyter/kernels/rust) so the
#      venv's jupyter sees it without touching the user's Jupyter folders.
# Needs only the Rust toolchain (cargo, rustc, a C linker) and python3 with venv. No Debian packages:
# the figures embed their font (crates/eiann-plot/assets/fonts), so no fontconfig or system fonts are used.
set -euo pipefail

EVCXR_VERSION="0.22.0" # newest release; builds with rustc 1.95 (~12 min on 2 busy cores, once)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="$repo/.venv"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

# 1. evcxr_jupyter. (It has no --version flag; cargo's install list records the version.)
if cargo install --list | grep -qx "evcxr_jupyter v${EVCXR_VERSION}:"; then
    echo "evcxr_jupyter ${EVCXR_VERSION}: already installed"
else
    echo "evcxr_jupyter ${EVCXR_VERSION}: installing with cargo (several minutes on 2 cores) ..."
    cargo install evcxr_jupyter --locked --version "$EVCXR_VERSION"
fi
evcxr="$cargo_bin/evcxr_jupyter"
[ -x "$evcxr" ] || evcxr="$(command -v evcxr_jupyter)"

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

# 3. Kernel spec inside the venv. evcxr_jupyter --install writes to $JUPYTER_PATH/kernels/rust when
# JUPYTER_PATH is set (else to the user's data dir). The spec also gets LD_LIBRARY_PATH = the
# toolchain's target libdir: evcxr links cell code against libstd-*.so via a relative rpath that breaks
# when its build folder shares a path prefix with ~/.rustup (e.g. EVCXR_TMPDIR under ~/.cache).
kernel_dir="$venv/share/jupyter/kernels/rust"
libdir="$(rustc --print target-libdir)"
if [ ! -f "$kernel_dir/kernel.json" ] ||
    ! grep -qF "$evcxr" "$kernel_dir/kernel.json" ||
    ! grep -qF "$libdir" "$kernel_dir/kernel.json"; then
    JUPYTER_PATH="$venv/share/jupyter" "$evcxr" --install >/dev/null
    "$venv/bin/python" - "$kernel_dir/kernel.json" "$libdir" <<'EOF'
import json, sys
path, libdir = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec.setdefault("env", {})["LD_LIBRARY_PATH"] = libdir
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
echo "ready: kernel 'rust' (evcxr_jupyter ${EVCXR_VERSION}) in $venv"
