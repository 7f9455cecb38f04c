#!/usr/bin/env bash
# The scale-out shape on one machine, from Debian's packages: PostgreSQL (the
# machine's, at DEPLOY_POSTGRES), PgBouncer in transaction mode, three
# mlte-graphql processes and HAProxy in front. For people to copy.
#
#   deploy/run.sh start     migrate (directly), then start PgBouncer, the processes, HAProxy
#   deploy/run.sh restart   restart the processes one after another (SIGTERM, drain, start)
#   deploy/run.sh stop
#
# State (configs, logs, pids, the JWT secret) lives in DEPLOY_DIR.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${DEPLOY_DIR:-/tmp/mlte-deploy}"
BIN="${MLTE_BIN:-$HERE/../target/release/mlte-graphql}"
# Not for the processes: they warn about MLTE_* variables they do not know.
unset MLTE_BIN
POSTGRES="${DEPLOY_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
DATABASE="${DEPLOY_DATABASE:-mlte_deploy}"
BOUNCER_PORT="${DEPLOY_BOUNCER_PORT:-6432}"
export DEPLOY_PORT="${DEPLOY_PORT:-8080}"
export DEPLOY_PORT_1="${DEPLOY_PORT_1:-8081}" DEPLOY_PORT_2="${DEPLOY_PORT_2:-8082}" DEPLOY_PORT_3="${DEPLOY_PORT_3:-8083}"
PORTS=("$DEPLOY_PORT_1" "$DEPLOY_PORT_2" "$DEPLOY_PORT_3")

say() { echo "[deploy] $*" >&2; }

healthy() { curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$1/health"; }

wait_healthy() {
    for _ in $(seq 1 100); do healthy "$1" && return 0; sleep 0.1; done
    say "port $1 did not answer /health"; return 1
}

# One process; its environment is what a deployment sets.
start_process() {
    local n="$1" port="${PORTS[$(($1 - 1))]}"
    DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/$DATABASE" \
    MLTE_UNNAMED_STATEMENTS=true \
    MLTE_LISTEN="127.0.0.1:$port" \
    MLTE_JWT_SECRET="$(cat "$DIR/jwt_secret")" \
    MLTE_ADMIN_PASSWORD="$(cat "$DIR/admin_password")" \
    MLTE_TRUSTED_PROXIES=127.0.0.1/32 \
    MLTE_SHUTDOWN_GRACE_SECS=5 \
        nohup "$BIN" serve </dev/null >>"$DIR/mlte-$n.log" 2>&1 &
    echo $! >"$DIR/mlte-$n.pid"
    wait_healthy "$port"
}

stop_process() {
    local pid
    pid="$(cat "$DIR/mlte-$1.pid" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

start() {
    command -v haproxy >/dev/null && [ -x /usr/sbin/pgbouncer ] || {
        say "installing haproxy and pgbouncer (apt)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy pgbouncer >/dev/null
    }
    mkdir -p "$DIR" && chmod 755 "$DIR"
    [ -f "$DIR/jwt_secret" ] || head -c 48 /dev/urandom | base64 -w0 >"$DIR/jwt_secret"
    [ -f "$DIR/admin_password" ] || echo "${MLTE_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 -w0)}" >"$DIR/admin_password"
    psql "$POSTGRES/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1 ||
        psql "$POSTGRES/postgres" -qc "CREATE DATABASE $DATABASE"
    # Migrations once, on a direct connection (their lock is the session's).
    DATABASE_URL="$POSTGRES/$DATABASE" "$BIN" migrate >&2
    sed -e "s/^listen_port = .*/listen_port = $BOUNCER_PORT/" -e "s|^auth_file = .*|auth_file = $DIR/users.txt|" \
        "$HERE/pgbouncer.ini" >"$DIR/pgbouncer.ini"
    echo '"postgres" ""' >"$DIR/users.txt"
    chmod 644 "$DIR/pgbouncer.ini" "$DIR/users.txt"
    # PgBouncer will not run as root: as root it switches to postgres.
    local as_user=()
    [ "$(id -u)" = 0 ] && as_user=(-u postgres)
    nohup /usr/sbin/pgbouncer "${as_user[@]}" "$DIR/pgbouncer.ini" </dev/null >>"$DIR/pgbouncer.log" 2>&1 &
    for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$BOUNCER_PORT") 2>/dev/null && break; sleep 0.1; done
    for n in 1 2 3; do start_process "$n"; done
    haproxy -D -f "$HERE/haproxy.cfg" -p "$DIR/haproxy.pid" </dev/null >>"$DIR/haproxy.log" 2>&1
    wait_healthy "$DEPLOY_PORT"
    say "serving on http://127.0.0.1:$DEPLOY_PORT/graphql (admin password in $DIR/admin_password)"
}

# One process at a time: told to stop, it answers /health 503 while HAProxy takes it
# out (inter 1s fall 2), finishes what it has, exits; a new one starts and HAProxy
# takes it back at its first good check.
restart() {
    for n in 1 2 3; do
        say "restarting process $n"
        stop_process "$n"
        start_process "$n"
        sleep 2
    done
}

stop() {
    [ -f "$DIR/haproxy.pid" ] && kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
    for n in 1 2 3; do stop_process "$n"; done
    pkill -f "pgbouncer.* $DIR/pgbouncer.ini" || true
    rm -f "$DIR"/*.pid
}

case "${1:-}" in
    start) start ;;
    restart) restart ;;
    stop) stop ;;
    *) echo "usage: $0 start|restart|stop" >&2; exit 2 ;;
esac
