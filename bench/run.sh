#!/usr/bin/env bash
# Benchmark harness for mlte-graphql (issue 6).
#
#   bench/run.sh [--peer] [--users U] [--models M] [--duration SECS]
#                [--database sqlite|postgres] [--quick] [--no-scaling] [...]
#
# Builds the release binary, installs the load tool (wrk, from Debian), with --peer
# also MLTE 2.7.0 into bench/.venv, then runs bench/bench.py (Python standard library
# only). Tables go to stdout and to bench/results/last.txt; progress to stderr.
# `bench/run.sh --help` lists every option of the driver.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$BENCH_DIR")"
cd "$REPO"

PEER=0
AUDIT=0
DATABASE=sqlite
for arg in "$@"; do
    case "$arg" in
        --peer) PEER=1 ;;
        --audit) AUDIT=1 ;;
        -h|--help) exec python3 "$BENCH_DIR/bench.py" --help ;;
    esac
done
# --database VALUE / --database=VALUE, for the PostgreSQL start-up below.
prev=""
for arg in "$@"; do
    [ "$prev" = "--database" ] && DATABASE="$arg"
    case "$arg" in --database=*) DATABASE="${arg#--database=}" ;; esac
    prev="$arg"
done

say() { echo "[bench] $*" >&2; }

# 1. The binary. cargo waits by itself if another build holds the target lock. With
#    --audit, first the comparison build without the audit log (only the crate itself
#    is rebuilt: the dependencies are shared).
if [ "$AUDIT" = 1 ]; then
    say "cargo build --release --features bench-without-audit"
    cargo build --release --features bench-without-audit >&2
    cp target/release/mlte-graphql target/release/mlte-graphql-without-audit
fi
say "cargo build --release"
cargo build --release >&2
# The listing's floor (examples/listing_floor.rs), built on its own: an example builds
# with the dev-dependencies' features, which the server's binary must not get.
say "cargo build --release --example listing_floor"
cargo build --release --example listing_floor >&2

# 2. The load tool. wrk rather than hey: a C event loop, so it takes less of the two
#    cores from the server, and its Lua hooks let us check every GraphQL body for errors.
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk (apt)"
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi

# 3. PostgreSQL, when asked for: the machine's cluster (as .ci/run starts it); the
#    driver creates one database per dataset through psql.
if [ "$DATABASE" = postgres ]; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start 2>/dev/null || true
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# 4. The peer: MLTE 2.7.0 from PyPI. `backend` brings FastAPI/uvicorn/python-jose,
#    `rdbs` SQLAlchemy for the sqlite:// store.
if [ "$PEER" = 1 ] && [ ! -x "$BENCH_DIR/.venv/bin/mlte" ]; then
    say "installing mlte[backend,rdbs]==2.7.0 into bench/.venv"
    python3 -m venv "$BENCH_DIR/.venv"
    "$BENCH_DIR/.venv/bin/pip" install --quiet 'mlte[backend,rdbs]==2.7.0' >&2
fi

# 5. Run; keep the last tables, one file per database.
RESULTS="$BENCH_DIR/results/last.txt"
[ "$DATABASE" = postgres ] && RESULTS="$BENCH_DIR/results/last-postgres.txt"
# A run of the audit comparison alone keeps its own file, not the full tables.
case " $* " in *" --no-main "*" --audit "*|*" --audit "*" --no-main "*)
    RESULTS="$BENCH_DIR/results/audit.txt"
    [ "$DATABASE" = postgres ] && RESULTS="$BENCH_DIR/results/audit-postgres.txt" ;;
esac
# So do runs of the memory bounds and of the admin queries alone.
case " $* " in *" --no-main "*" --admin "*|*" --admin "*" --no-main "*)
    RESULTS="$BENCH_DIR/results/admin.txt"
    [ "$DATABASE" = postgres ] && RESULTS="$BENCH_DIR/results/admin-postgres.txt" ;;
esac
case " $* " in *" --no-main "*" --memory "*|*" --memory "*" --no-main "*)
    RESULTS="$BENCH_DIR/results/memory.txt"
    [ "$DATABASE" = postgres ] && RESULTS="$BENCH_DIR/results/memory-postgres.txt" ;;
esac
case " $* " in *" --no-main "*" --callers "*|*" --callers "*" --no-main "*)
    RESULTS="$BENCH_DIR/results/callers.txt"
    [ "$DATABASE" = postgres ] && RESULTS="$BENCH_DIR/results/callers-postgres.txt" ;;
esac
case " $* " in *" --no-main "*" --deploy "*|*" --deploy "*" --no-main "*)
    RESULTS="$BENCH_DIR/results/deploy-postgres.txt" ;;
esac
mkdir -p "$BENCH_DIR/results"
python3 "$BENCH_DIR/bench.py" "$@" | tee "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
say "results written to ${RESULTS#"$REPO"/}"
