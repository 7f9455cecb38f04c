"""The load tool (wrk) and the server-side sampling around each run.

Why wrk and not hey: on a 2-core machine the load generator competes with the server
for CPU; wrk is a C event loop and costs less than hey's goroutine per worker. Its Lua
hooks also let us look at *every* response body, so a GraphQL error (HTTP 200 with an
`errors` member) is counted per request instead of guessed from a sample.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import tempfile
import threading
import time

_CLK_TCK = os.sysconf("SC_CLK_TCK")

# Printed by the script's done() hook, parsed below. Latencies in microseconds.
_LUA_TEMPLATE = r"""
wrk.method = [==[%(method)s]==]
wrk.body = %(body)s
%(headers)s
%(rotation)s

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) gql_errors = 0 end
function response(status, headers, body)
  if %(check_gql)s and string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end
function done(summary, latency, requests)
  local g = 0
  for _, t in ipairs(threads) do g = g + t:get("gql_errors") end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d non2xx=%%d sockerr=%%d timeouts=%%d p50_us=%%d p99_us=%%d max_us=%%d gql_errors=%%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max, g))
end
"""


@dataclasses.dataclass
class Workload:
    name: str
    method: str
    path: str
    body: str = ""
    headers: dict = dataclasses.field(default_factory=dict)
    check_gql: bool = False  # count bodies with a GraphQL `errors` member as errors
    # A file of bearer tokens, one per line: each request carries the next one.
    tokens_file: str | None = None


@dataclasses.dataclass
class RunResult:
    workload: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    rss_max_mib: float
    hwm_mib: float
    cpu_us_per_req: float
    note: str = ""
    duration: int = 0


def _lua_string(s: str) -> str:
    # A Lua long string cannot contain its own closing bracket; pick a level that fits.
    level = 1
    while f"]{'=' * level}]" in s:
        level += 1
    eq = "=" * level
    # A long string drops a first newline; bodies never start with one here.
    return f"[{eq}[{s}]{eq}]"


# Each request with the next token of the file, round robin.
_LUA_ROTATION = r"""
local tokens = {}
for line in io.lines(%(path)s) do tokens[#tokens + 1] = line end
local next_token = 0
function request()
  next_token = next_token %% #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[next_token]
  return wrk.format()
end
"""


def write_script(w: Workload, directory: str) -> str:
    headers = "\n".join(
        f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in w.headers.items()
    )
    text = _LUA_TEMPLATE % {
        "method": w.method,
        "body": _lua_string(w.body) if w.body else "nil",
        "headers": headers,
        "check_gql": "true" if w.check_gql else "false",
        "rotation": _LUA_ROTATION % {"path": _lua_string(w.tokens_file)} if w.tokens_file else "",
    }
    fd, path = tempfile.mkstemp(suffix=".lua", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


class ProcSampler:
    """Samples a process's VmRSS while a run goes on; reads VmHWM and CPU time around it."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval = pid, interval
        self.rss_max_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _status(self) -> dict:
        out = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        k, v = line.split(":", 1)
                        out[k] = int(v.split()[0])
        except OSError:
            pass
        return out

    def cpu_seconds(self) -> float:
        """utime + stime of the process (all its threads)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # fields[0] is the state (field 3 of stat); utime/stime are fields 14/15.
            return (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except OSError:
            return 0.0

    def _loop(self):
        while not self._stop.is_set():
            self.rss_max_kib = max(self.rss_max_kib, self._status().get("VmRSS", 0))
            self._stop.wait(self.interval)

    def __enter__(self):
        self.cpu0 = self.cpu_seconds()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        st = self._status()
        self.rss_max_kib = max(self.rss_max_kib, st.get("VmRSS", 0))
        self.hwm_kib = st.get("VmHWM", 0)
        self.cpu = self.cpu_seconds() - self.cpu0


def run_wrk(w: Workload, port: int, concurrency: int, duration: int, server_pid: int,
            tmpdir: str) -> RunResult:
    """One wrk run of `duration` seconds at `concurrency` connections."""
    script = write_script(w, tmpdir)
    # One wrk thread drives up to 32 connections easily and leaves the second core to
    # the server; wrk's default 2 s timeout would silently drop slow (Argon2, MLTE)
    # requests from the latency figures, so allow much longer.
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{duration}s", "--timeout", "60s",
           "-s", script, f"http://127.0.0.1:{port}{w.path}"]
    with ProcSampler(server_pid) as s:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(script)
    m = re.search(r"^BENCH (.*)$", proc.stdout, re.M)
    # wrk exits 0 even when the Lua script fails to load: treat any stderr as failure.
    if proc.returncode != 0 or not m or proc.stderr.strip():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    n = v["requests"]
    errors = v["non2xx"] + v["sockerr"] + v["timeouts"] + v["gql_errors"]
    return RunResult(
        workload=w.name, concurrency=concurrency,
        rps=n / (v["duration_us"] / 1e6) if v["duration_us"] else 0.0,
        p50_ms=v["p50_us"] / 1000, p99_ms=v["p99_us"] / 1000,
        errors=errors, requests=n,
        rss_max_mib=s.rss_max_kib / 1024, hwm_mib=s.hwm_kib / 1024,
        cpu_us_per_req=(s.cpu / n * 1e6) if n else 0.0,
        duration=duration,
        note=("none completed" if n == 0 else
              f"timeouts={v['timeouts']}" if v["timeouts"] else ""),
    )


def wait_idle(pid: int, max_wait: float = 300.0, busy_fraction: float = 0.1) -> float:
    """Wait until the server stops burning CPU; returns the seconds waited.

    wrk stops at its deadline but the server may still be working on requests that
    were in flight (MLTE's thread pool finishes every one of them, for tens of seconds
    at c=32). Starting the next run before that would charge it for the backlog.
    """
    probe = ProcSampler(pid)
    t0 = time.monotonic()
    while time.monotonic() - t0 < max_wait:
        c0 = probe.cpu_seconds()
        time.sleep(0.5)
        if probe.cpu_seconds() - c0 < 0.5 * busy_fraction:
            break
    return time.monotonic() - t0


def median_latency(fn, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median and minimum wall time (seconds) of `fn()` over `repeats` sequential calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], times[0]
