#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, used to test `eiann sweep slurm` end to end:
# installs Debian's slurm-wlm and munge when missing (apt-get), starts munged, slurmctld and slurmd on
# localhost with a generated slurm.conf, submits a 2-run sweep (2L config, 200 steps) as a job array,
# waits, collects the results table, checks every run against `eiann train` alone, and stops the daemons.
#
# Usage: scripts/slurm-local.sh            (from the repository root; needs MNIST: `just data`)
# Skips (exit 0) with a loud message only when the packages cannot be installed.
# Env: EIANN_SLURM_KEEP=1 keeps the work folder; EIANN_BIN=<path> uses that eiann binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

skip() {
    echo "################################################################################" >&2
    echo "## SKIPPED: single-node Slurm test — $*" >&2
    echo "################################################################################" >&2
    exit 0
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    echo "== installing slurm-wlm and munge (apt-get)"
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/eiann-slurm-apt.log 2>&1 \
        || { as_root apt-get update >>/tmp/eiann-slurm-apt.log 2>&1 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >>/tmp/eiann-slurm-apt.log 2>&1; }; }; then
        tail -5 /tmp/eiann-slurm-apt.log >&2 || true
        skip "cannot install slurm-wlm and munge with apt-get (no root/sudo, or no Debian package archive)"
    fi
fi
[ "$(id -u)" = 0 ] || skip "slurmd must run as root here (no root privileges)"

WORK=$(mktemp -d /tmp/eiann-slurm.XXXXXX)
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log" "$WORK/munge"
PIDS=()

cleanup() {
    status=$?
    echo "== stopping the daemons"
    for p in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munge/munged.pid"; do
        if [ -s "$p" ]; then kill "$(cat "$p")" 2>/dev/null || true; fi
    done
    sleep 1
    if [ $status -ne 0 ]; then
        echo "-- slurmctld log" >&2; tail -20 "$WORK/log/slurmctld.log" >&2 2>/dev/null || true
        echo "-- slurmd log" >&2; tail -20 "$WORK/log/slurmd.log" >&2 2>/dev/null || true
        for f in "$WORK"/sweep/out/slurm/*.out; do [ -e "$f" ] && { echo "-- $f" >&2; cat "$f" >&2; }; done
    fi
    if [ "${EIANN_SLURM_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    exit $status
}
trap cleanup EXIT

echo "== munged (own key and socket under $WORK/munge)"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$WORK/munge"; chmod 400 "$WORK/munge/munge.key"
SOCKET="$WORK/munge/munge.socket"
munged --force --key-file="$WORK/munge/munge.key" --socket="$SOCKET" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/seed"
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || { echo "munged did not start" >&2; cat "$WORK/munge/munged.log" >&2; exit 1; }

echo "== slurm.conf for node $HOST ($CPUS CPUs, $MEM_MB MB)"
export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=eiann-local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

echo "== slurmctld, slurmd"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
    case "$state" in idle*|mix*|alloc*) break;; esac
    sleep 1
done
sinfo
case "$state" in idle*|mix*|alloc*) ;; *) echo "node $HOST is '$state', not idle" >&2; exit 1;; esac

echo "== eiann binary"
if [ -n "${EIANN_BIN:-}" ]; then EIANN=$EIANN_BIN; else
    cargo build --release -p eiann-cli --quiet
    EIANN="$ROOT/target/release/eiann"
fi
CONFIG="$ROOT/data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml"
STEM=$(basename "$CONFIG" .yaml)
mkdir -p "$WORK/sweep"
cat >"$WORK/sweep/slurm_smoke.yaml" <<EOF
configs: ['$CONFIG']
seeds: [[66049, 257], [66050, 258]]
steps: 200
checkpoint_every: 100
val_every: 100
test: true
out_dir: out
EOF

echo "== eiann sweep slurm (sbatch --wait)"
t0=$(date +%s)
timeout 900 "$EIANN" sweep slurm "$WORK/sweep/slurm_smoke.yaml" --time 00:15:00 --mem 1G --wait \
    --mnist-dir "$ROOT/data/datasets/MNIST/raw"
t1=$(date +%s)
echo "job array finished in $((t1 - t0)) s"
sacct_line=$(ls "$WORK/sweep/out/slurm/"*.out | wc -l)
[ "$sacct_line" = 2 ] || { echo "expected 2 task logs, found $sacct_line" >&2; exit 1; }

echo "== eiann sweep collect"
"$EIANN" sweep collect "$WORK/sweep/slurm_smoke.yaml"
rows=$(($(wc -l <"$WORK/sweep/out/results.csv") - 1))
[ "$rows" = 6 ] || { echo "results.csv has $rows rows, expected 6 (2 runs x 3 steps)" >&2; exit 1; }
[ -s "$WORK/sweep/out/results.csv" ] || { echo "no results.csv" >&2; exit 1; }

echo "== every array task = eiann train alone"
for seeds in "66049 257" "66050 258"; do
    set -- $seeds
    "$EIANN" train --config "$CONFIG" --network-seed "$1" --data-seed "$2" --steps 200 --checkpoint-every 100 \
        --val-every 100 --test --quiet --mnist-dir "$ROOT/data/datasets/MNIST/raw" --out "$WORK/alone_$1.pkl" >/dev/null
    cmp "$WORK/alone_$1.pkl" "$WORK/sweep/out/runs/${STEM}_$1_$2.pkl"
    echo "run $1/$2: identical"
done

echo "== resubmitting a finished sweep submits nothing"
"$EIANN" sweep slurm "$WORK/sweep/slurm_smoke.yaml" | tee "$WORK/again.txt"
grep -q "nothing to submit" "$WORK/again.txt"
echo "single-node Slurm test passed"
