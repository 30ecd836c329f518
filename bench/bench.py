#!/usr/bin/env python3
"""Tandem's benchmark runner (issue 4). Start it with bench/run.sh; see docs/performance.md.

Full run (about 7 minutes, plus the build):
  1. builds the release binary and the load generator (make build-release, target tandem-loadgen);
  2. measures the disk (fdatasync per second) and records the machine;
  3. prepares a fresh data folder: an admin account, then over HTTP (tandem-loadgen seed) four
     stores and one distribution centre, 10,000 SKUs, 20 hot SKUs with 1,000,000 units each and a
     sell-out SKU with 1,000 units;
  4. starts `tandem serve` with its durable defaults (group commit, every answer after its fdatasync) and runs:
     the flash sale (closed loop) at 64, 256 and 1,024 connections, the same on the first hot
     SKU alone at 64 and 256 connections, the flash sale in an open loop
     at a fixed arrival rate, the browse mix, the ceiling (GET /healthz at 256 connections), and
     the sell-out (1,000 units, 1,024 connections);
  5. verifies: every order answered 201 exists with its SKU (GET /api/v1/orders/{id}), no hot SKU
     has more allocated than it had and exactly as many units allocated as orders answered 201,
     the sell-out sold exactly its 1,000 units and refused every other attempt with 409, no 5xx
     and no transport error anywhere, and `tandem check` is clean after a graceful stop;
  6. starts a throwaway PostgreSQL cluster (initdb in a temporary folder, 127.0.0.1 only) and runs
     the conventional design with pgbench: one transaction per checkout, SELECT ... FOR UPDATE on
     the stock row, UPDATE, INSERT of the order; once that transaction alone, once the whole
     session (a durable cart, a durable line, then that transaction, which closes the cart); each
     at 64 and 256 clients on the 20 hot SKUs and on a single hot SKU, set beside tandem's run on
     as many hot SKUs;
  7. writes bench/results/: results.json (everything), one JSON report per load run, summary.md
     (the tables of docs/performance.md), and gnuplot PNG plots (throughput and latency over time).

--logins runs the login benchmark of issue 25 instead (about 1.5 minutes plus the build): on a
fresh server seeded as above plus 200 customers, logins per second and sign-ups per second (closed
loop at 8 connections: the hashing lane's threads and queue, never past them), the flash sale
alone at 256 connections, then the same flash sale while a storm of logins arrives (open loop) at
twice the login capacity just measured; checks the issue's targets (at least 50 logins/s; flash
p99 at most 25 ms during the storm; every login beyond capacity answered 503 with Retry-After
within 100 ms, none timed out) and writes logins.json and logins.md.

--quick does the same on a tiny setting in under a minute (no build, no apt-get, no timings
asserted): `make test` runs it through bench/test_bench_smoke.py.

Each heavy step (build, seeding, every load run, every pgbench run) holds the machine lock
(flock(2) on /tmp/tandem-machine.lock, as `flock` does) only while it runs, so do not wrap this
script itself in `flock`. --quick takes no lock unless --lock is given (make test may already hold
it). Exit status: 0 when every verification passed, 1 otherwise, 2 on a usage or set-up error.
"""

import argparse
import contextlib
import datetime
import fcntl
import http.client
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
from serve import ServeFailed, start_serve  # noqa: E402

DEFAULT_LOCK = "/tmp/tandem-machine.lock"
ADMIN_EMAIL = "bench-admin@bench.example.my"
ADMIN_PASSWORD = "bench-admin-password"

FULL = dict(skus=10000, variants=10, hot=20, hot_stock=1000000, sellout_stock=1000,
            flash_connections=[64, 256, 1024], flash_seconds=20, one_sku_connections=[64, 256],
            one_sku_seconds=15, open_connections=256,
            open_seconds=15, browse_connections=256, browse_seconds=10,
            ceiling_connections=256, ceiling_seconds=10, sellout_connections=1024,
            sellout_seconds=5, pg_clients=[64, 256], pg_single_clients=[64, 256], pg_seconds=15,
            verify_connections=64, seed_connections=64, sweep_threads=[1, 4],
            sweep_connections=256, sweep_seconds=15,
            in_process_filter="^BM_CheckoutPipelined/512|^BM_CheckoutOfHeldCarts/(512|4096)/|"
                              "^BM_BareCheckoutLoop/100|^BM_RowsPerStatement",
            login_customers=200, login_connections=8, login_seconds=10, storm_connections=64,
            storm_flash_connections=256, storm_flash_seconds=15)
QUICK = dict(skus=200, variants=10, hot=2, hot_stock=100000, sellout_stock=40,
             flash_connections=[4, 16], flash_seconds=2, one_sku_connections=[4],
             one_sku_seconds=1, open_connections=8, open_seconds=2,
             browse_connections=4, browse_seconds=1, ceiling_connections=16, ceiling_seconds=1,
             sellout_connections=32, sellout_seconds=3, pg_clients=[4], pg_single_clients=[4],
             pg_seconds=2, verify_connections=8, seed_connections=8, sweep_threads=[1],
             sweep_connections=16, sweep_seconds=1,
             in_process_filter="^BM_CheckoutPipelined/64|^BM_CheckoutOfHeldCarts/64|"
                               "^BM_BareCheckoutLoop/100",
             login_customers=8, login_connections=2, login_seconds=1, storm_connections=8,
             storm_flash_connections=16, storm_flash_seconds=2)


def log(msg):
    print(f"[bench {datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def exit_with(main):
    """Runs a script's main(): its exit code; 2 when the setup failed, 130 on Ctrl-C."""
    try:
        sys.exit(main())
    except SetupError as e:
        log(f"error: {e}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


class SetupError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The machine lock

class Machine:
    """flock(2) on the shared lock file around each heavy step (compatible with flock(1))."""

    def __init__(self, path):
        self.path = path

    @contextlib.contextmanager
    def lock(self, what):
        if not self.path:
            yield
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            started = time.monotonic()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f"waiting for the machine lock {self.path} ({what})")
                fcntl.flock(fd, fcntl.LOCK_EX)
                log(f"got the lock after {time.monotonic() - started:.0f} s")
            yield
        finally:
            os.close(fd)  # releases the lock


def run(cmd, timeout, check=True, capture=False, **kw):
    r = subprocess.run(cmd, timeout=timeout, text=True,
                       capture_output=capture, **kw)
    if check and r.returncode != 0:
        out = (r.stdout or "") + (r.stderr or "") if capture else ""
        raise SetupError(f"{' '.join(cmd)} exited with {r.returncode}\n{out[-3000:]}")
    return r


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ---------------------------------------------------------------------------------------------
# The tandem server

class Tandem:
    def __init__(self, binary, data_dir, extra_args=()):
        self.bin = binary
        self.data = data_dir
        self.extra = list(extra_args)
        self.proc = None
        self.port = None
        self.out_path = os.path.join(data_dir, "server.stdout.log")
        self.err_path = os.path.join(data_dir, "server.stderr.log")

    def cli(self, *args, timeout=300, check=True):
        return run([self.bin, *args, "--data", self.data], timeout=timeout, check=check,
                   capture=True)

    def start(self, timeout=60):
        os.makedirs(self.data, exist_ok=True)
        try:
            self.proc, self.port = start_serve(
                [self.bin, "serve", "--data", self.data, "--listen", "127.0.0.1:0", *self.extra],
                self.out_path, self.err_path, timeout, preexec_fn=raise_nofile)
        except ServeFailed as e:
            self.proc = None  # no server (after kill9 it still named the killed one)
            raise SetupError(f"{e}:\n{self.stderr_tail()}") from e
        return self

    def stop(self, timeout=60):
        """SIGTERM (graceful); returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.proc = None
        return rc

    def kill9(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, lines=30):
        try:
            with open(self.err_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return "(no stderr)"

    def check(self):
        r = self.cli("check", check=False)
        return r.returncode, (r.stdout + r.stderr).strip()

    def request(self, method, path, body=None, token=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            try:
                return resp.status, json.loads(data)
            except ValueError:
                return resp.status, data
        finally:
            conn.close()

    def login(self):
        status, body = self.request("POST", "/api/v1/auth/login",
                                    {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if status != 200:
            raise SetupError(f"login failed: {status} {body}")
        return body["token"]

    def stock(self, sku, token):
        """A SKU's totals over its locations: on_hand, allocated, reserved, and how many of its
        levels show a negative `available`."""
        status, body = self.request("GET", f"/api/v1/inventory?sku={sku}", token=token)
        if status != 200:
            raise SetupError(f"GET inventory {sku}: {status} {body}")
        levels = body["items"]
        return {"on_hand": sum(lv["on_hand"] for lv in levels),
                "allocated": sum(lv["allocated"] for lv in levels),
                "reserved": sum(lv["reserved"] for lv in levels),
                "negative_levels": sum(1 for lv in levels if lv["available"] < 0)}


# ---------------------------------------------------------------------------------------------
# What the machine does during a run (2 shared cores: other jobs show up as "other_cores")

def _machine_ticks():
    """(busy, total) clock ticks of all CPUs since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def _process_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, every thread
    except (OSError, IndexError, ValueError):
        return 0


def _thread_ticks(pid):
    """{tid: utime + stime} of every thread of a process."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return out


def machine_busy_cores(seconds=1.0):
    """CPU cores busy on the whole machine over `seconds` (anything: our jobs and others')."""
    b0, t0 = _machine_ticks(), time.monotonic()
    time.sleep(seconds)
    b1 = _machine_ticks()
    return (b1[0] - b0[0]) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)


def wait_for_quiet(max_seconds, threshold=0.3):
    """Waits (up to max_seconds) until the machine is nearly idle before a measurement, since
    other engineers share the two cores. Returns the busy cores seen last."""
    deadline = time.monotonic() + max_seconds
    busy = machine_busy_cores(1.0)
    if busy > threshold and max_seconds > 0:
        log(f"the machine is busy ({busy:.2f} cores used by other work): waiting up to "
            f"{max_seconds:.0f} s for it to calm down")
        while busy > threshold and time.monotonic() < deadline:
            busy = machine_busy_cores(2.0)
    return round(busy, 2)


class Sampler:
    """Once per second: CPU cores used by the whole machine and by the server, and the size of
    the server's SQLite WAL; in total, also the load generator and everything else."""

    def __init__(self, server_pid, wal_path):
        self.pid = server_pid
        self.wal = wal_path
        self.samples = []
        self.hz = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self.start_machine = _machine_ticks()
        self.start_server = _process_ticks(self.pid) if self.pid else 0
        self.start_threads = _thread_ticks(self.pid) if self.pid else {}
        self.start_time = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        busy, _ = _machine_ticks()
        server = _process_ticks(self.pid) if self.pid else 0
        seconds = self.seconds = max(1e-6, time.monotonic() - self.start_time)
        threads = _thread_ticks(self.pid) if self.pid else {}
        busiest = max([v - self.start_threads.get(t, 0) for t, v in threads.items()] or [0])
        self.totals = {
            "machine_busy_cores": round((busy - self.start_machine[0]) / self.hz / seconds, 2),
            "server_cores": round((server - self.start_server) / self.hz / seconds, 2),
            "server_busiest_thread_cores": round(busiest / self.hz / seconds, 2)}

    def _loop(self):
        last_m, last_s, last_t = _machine_ticks()[0], _process_ticks(self.pid), time.monotonic()
        while not self._stop.wait(1.0):
            m, sv, t = _machine_ticks()[0], _process_ticks(self.pid), time.monotonic()
            dt = max(1e-6, t - last_t)
            try:
                wal = os.path.getsize(self.wal) if self.wal else 0
            except OSError:
                wal = 0
            self.samples.append({"t": round(t - self.start_time, 1),
                                 "machine_cores": round((m - last_m) / self.hz / dt, 2),
                                 "server_cores": round((sv - last_s) / self.hz / dt, 2),
                                 "wal_mib": round(wal / 1048576, 1)})
            last_m, last_s, last_t = m, sv, t


# ---------------------------------------------------------------------------------------------
# The load generator

WRITER_THREAD = "tandem-writer"  # the server's name for its writer thread (top -H)


def cpu_per_checkout(report):
    """(server, writer thread) CPU µs per checkout answered 201, user + system, over the load
    generator's window (its --server-pid reads /proc at the clock's start and at the end of the
    drain, so every counted checkout and nothing of connecting or warming up); None when the run
    had no checkout or the figure is missing."""
    cpu, n = report.get("server_cpu"), report.get("checkouts_ok")
    if not cpu or not n:
        return None, None
    writer = cpu["thread_seconds"].get(WRITER_THREAD)
    return (round(cpu["seconds"] * 1e6 / n, 1),
            round(writer * 1e6 / n, 1) if writer is not None else None)


class Loadgen:
    def __init__(self, binary, machine, out_dir, server=None, quiet_wait=0):
        self.bin = binary
        self.machine = machine
        self.out = out_dir
        self.server = server  # a Tandem: its CPU and WAL are sampled during each run
        self.quiet_wait = quiet_wait  # seconds to wait for an idle machine before a run

    def cmd(self, command, port, *args):
        return [self.bin, command, "--port", str(port), *map(str, args)]

    def run(self, name, port, scenario, connections, seconds, skus=None, products=None,
            rate=0, orders=True, extra=(), locked=False):
        """One load run under the lock (`locked`: the caller holds it); returns the JSON report
        (with file names added)."""
        json_path = os.path.join(self.out, f"{name}.json")
        orders_path = os.path.join(self.out, f"{name}.orders") if orders else None
        args = ["--scenario", scenario, "--connections", connections, "--duration-seconds",
                seconds, "--json", json_path, "--label", name, "--quiet"]
        if skus:
            args += ["--skus", skus]
        if products:
            args += ["--products", products]
        if rate:
            args += ["--rate", rate]
        if orders_path:
            args += ["--orders", orders_path]
        pid = self.server.proc.pid if self.server and self.server.proc else None
        if pid:
            args += ["--server-pid", pid]
        args += list(extra)
        log(f"load run {name}: {scenario}, {connections} connections, {seconds} s"
            + (f", open loop at {rate:.0f} sessions/s" if rate else ""))
        wal = os.path.join(self.server.data, "tandem.db-wal") if self.server else None
        with contextlib.nullcontext() if locked else self.machine.lock(name):
            busy_before = wait_for_quiet(self.quiet_wait) if self.quiet_wait and not locked \
                else None
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            with Sampler(pid, wal) as sampler:
                r = run(self.cmd("run", port, *args), timeout=seconds + 120, capture=True,
                        check=False)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        t = sampler.totals
        t["loadgen_cores"] = round(used / max(1e-6, sampler.seconds), 2)
        t["other_cores"] = round(t["machine_busy_cores"] - t["server_cores"] -
                                 t["loadgen_cores"], 2)
        t["busy_cores_before"] = busy_before
        print(r.stdout, end="", flush=True)
        print(f"cpu: {sampler.totals}", flush=True)
        if r.returncode != 0:
            raise SetupError(f"loadgen {name} exited with {r.returncode}: {r.stderr[-2000:]}")
        with open(json_path) as f:
            report = json.load(f)
        report["cpu"] = sampler.totals
        report["samples"] = sampler.samples
        us, writer_us = cpu_per_checkout(report)
        report["server_cpu_us_per_checkout"], report["writer_cpu_us_per_checkout"] = us, writer_us
        if us is not None:
            log(f"  {name}: {report['checkouts_per_second']:,.0f} checkouts/s, p99 "
                f"{report['latency_ms']['p99']:.2f} ms (all requests), server CPU {us:.1f} µs "
                f"per checkout (writer {fmt(writer_us, 1)} µs)")
        report["json_file"] = os.path.basename(json_path)
        report["orders_file"] = os.path.basename(orders_path) if orders_path else None
        return report

    def seed(self, port, manifest, p, connections, customers=0):
        args = ["--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
                "--manifest", manifest, "--skus", p["skus"], "--variants-per-product",
                p["variants"], "--hot", p["hot"], "--hot-stock", p["hot_stock"], "--sellout", 1,
                "--sellout-stock", p["sellout_stock"], "--connections", connections,
                "--customers", customers]
        with self.machine.lock("seed"):
            r = run(self.cmd("seed", port, *args), timeout=600, capture=True)
        print(r.stdout, end="", flush=True)
        with open(manifest) as f:
            return json.load(f)

    def verify(self, port, order_files, connections):
        json_path = os.path.join(self.out, "verify-orders.json")
        args = ["--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD, "--orders",
                ",".join(order_files), "--connections", connections, "--json", json_path]
        with self.machine.lock("verify"):
            r = run(self.cmd("verify", port, *args), timeout=900, capture=True, check=False)
        print(r.stdout, end="", flush=True)
        if not os.path.exists(json_path):
            raise SetupError(f"loadgen verify failed: {r.stderr[-2000:]}")
        with open(json_path) as f:
            return json.load(f)


def build_release(machine):
    """The release `tandem`, `tandem-loadgen` and `tandem-write-path-bench`, under the machine
    lock."""
    log("building the release binary, the load generator and the in-process benchmark")
    with machine.lock("build"):
        run(["make", "-C", REPO, "build-release"], timeout=1800, capture=True)
        run(["cmake", "--build", os.path.join(REPO, "build", "release"), "--target",
             "tandem-loadgen", "tandem-write-path-bench", f"-j{os.cpu_count() or 2}"],
            timeout=1800, capture=True)


def in_process(binary, machine, benchmark_filter, quiet_wait):
    """The in-process write path (Google Benchmark, its own fresh database): per benchmark,
    items/s and the writer thread's µs per item."""
    log(f"in-process benchmark: {benchmark_filter}")
    wait_for_quiet(quiet_wait)
    cmd = [binary, f"--benchmark_filter={benchmark_filter}", "--benchmark_format=json"]
    with machine.lock("in-process benchmark"):
        r = run(cmd, timeout=900, capture=True)
    out = []
    for b in json.loads(r.stdout)["benchmarks"]:
        out.append({"name": b["name"].split("/min_time")[0],
                    "items_per_second": b["items_per_second"],
                    "writer_us": b.get("writer_us")})
        log(f"  {out[-1]['name']}: {out[-1]['items_per_second']:,.0f}/s"
            + (f", writer {out[-1]['writer_us']:.1f} µs each" if out[-1]["writer_us"] else ""))
    return {"command": cmd, "benchmarks": out}


def read_orders(*paths):
    """{sku: count} of the orders answered 201 in loadgen --orders files (missing ones count 0)."""
    counts = {}
    for path in paths:
        if not path or not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    counts[parts[1]] = counts.get(parts[1], 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# The machine, the disk

def machine_info(data_dir):
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        info["cpu_model"] = m.group(1).strip() if m else "?"
        m = re.search(r"^cpu MHz\s*:\s*(.+)$", text, re.M)
        info["cpu_mhz"] = float(m.group(1)) if m else None
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
            info["memory_gib"] = round(int(m.group(1)) / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    r = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", data_dir],
                       capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.split():
        source, fstype = (r.stdout.split() + ["?"])[:2]
        info["disk"] = {"device": source, "filesystem": fstype}
        dev = os.path.basename(source)
        base = re.sub(r"p?\d+$", "", dev) if not os.path.exists(f"/sys/block/{dev}") else dev
        for key, rel in (("rotational", "queue/rotational"), ("model", "device/model")):
            try:
                with open(f"/sys/block/{base}/{rel}") as f:
                    info["disk"][key] = f.read().strip()
            except OSError:
                pass
    return info


def fdatasync_rate(directory, seconds):
    """Appends 4 KiB and fdatasyncs in a loop: durable writes per second of this disk."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"x" * 4096
    n = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            os.write(fd, block)
            os.fdatasync(fd)
            n += 1
    finally:
        os.close(fd)
        os.unlink(path)
    return n / (time.monotonic() - start)


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the conventional design

PG_SCHEMA = """
CREATE TABLE stock (sku text PRIMARY KEY, on_hand integer NOT NULL CHECK (on_hand >= 0));
CREATE TABLE carts (id bigserial PRIMARY KEY, token_hash text NOT NULL,
                    open boolean NOT NULL DEFAULT true,
                    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE cart_lines (cart_id bigint NOT NULL REFERENCES carts (id),
                         sku text NOT NULL REFERENCES stock (sku),
                         quantity integer NOT NULL CHECK (quantity > 0),
                         PRIMARY KEY (cart_id, sku));
CREATE TABLE orders (id bigserial PRIMARY KEY, cart_id bigint REFERENCES carts (id),
                     sku text NOT NULL, quantity integer NOT NULL,
                     email text NOT NULL, total_minor bigint NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO stock SELECT 'HOT-' || g, 10000000 FROM generate_series(1, 20) g;
"""

# The conventional design, in two workloads (pgbench counts one script run as one checkout):
# - "checkout": the checkout transaction alone, as in the figures the issue quotes: lock the stock
#   row, decrement, insert the order;
# - "session": the flash sale's three steps, each durable, as tandem's three requests are: a
#   cart, its line (added after a look at the stock, which the conventional design does not
#   reserve), then the same checkout transaction, which also closes the cart.
PG_SCRIPTS = {
    "checkout": """\\set n random(1, {skus})
BEGIN;
SELECT on_hand FROM stock WHERE sku = 'HOT-' || :n FOR UPDATE;
UPDATE stock SET on_hand = on_hand - 1 WHERE sku = 'HOT-' || :n AND on_hand >= 1;
INSERT INTO orders (sku, quantity, email, total_minor)
  VALUES ('HOT-' || :n, 1, 'pg' || :client_id || '@bench.example.my', 1212);
COMMIT;
""",
    "session": """\\set n random(1, {skus})
INSERT INTO carts (token_hash) VALUES (md5(random()::text)) RETURNING id AS cart_id \\gset
INSERT INTO cart_lines (cart_id, sku, quantity)
  SELECT :cart_id, sku, 1 FROM stock WHERE sku = 'HOT-' || :n AND on_hand >= 1;
BEGIN;
SELECT on_hand FROM stock WHERE sku = 'HOT-' || :n FOR UPDATE;
UPDATE stock SET on_hand = on_hand - 1 WHERE sku = 'HOT-' || :n AND on_hand >= 1;
INSERT INTO orders (cart_id, sku, quantity, email, total_minor)
  VALUES (:cart_id, 'HOT-' || :n, 1, 'pg' || :client_id || '@bench.example.my', 1212);
UPDATE carts SET open = false WHERE id = :cart_id;
COMMIT;
""",
}


def find_pg_bin():
    for version in ("15", "16", "17", "14", "13"):
        d = f"/usr/lib/postgresql/{version}/bin"
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pgbench")):
            return d, version
    return None, None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(-(-p / 100.0 * len(sorted_values) // 1)) - 1))
    return sorted_values[k]


class Postgres:
    """A throwaway cluster: initdb in a temporary folder, 127.0.0.1 only, default settings except
    max_connections (300, so that 256 clients can connect)."""

    def __init__(self, tmp_root):
        self.bindir, self.version = find_pg_bin()
        if not self.bindir:
            raise SetupError("PostgreSQL binaries not found (Debian package postgresql)")
        self.dir = tempfile.mkdtemp(prefix="tandem-bench-pg-", dir=tmp_root)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres account
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as e:
                raise SetupError("running as root and there is no postgres account") from e
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.started = False

    def tool(self, name):
        return os.path.join(self.bindir, name)

    def start(self):
        run(self.as_user + [self.tool("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                            "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120, capture=True)
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.dir} -c max_connections=300")
        run(self.as_user + [self.tool("pg_ctl"), "-D", self.data, "-o", opts, "-l",
                            os.path.join(self.dir, "server.log"), "-w", "-t", "60", "start"],
            timeout=90, capture=True)
        self.started = True
        self.psql(PG_SCHEMA)

    def psql(self, sql):
        """Runs `sql` (stopping at the first error); returns its rows, unaligned, as text."""
        return run([self.tool("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                    "-v", "ON_ERROR_STOP=1", "-q", "-At", "-d", "postgres", "-c", sql],
                   timeout=120, capture=True).stdout

    def session_counts(self):
        """What the session workload left: carts, carts checked out, lines, orders of a cart."""
        out = self.psql(
            "SELECT (SELECT count(*) FROM carts), (SELECT count(*) FROM carts WHERE NOT open),"
            " (SELECT count(*) FROM cart_lines),"
            " (SELECT count(*) FROM orders WHERE cart_id IS NOT NULL)")
        carts, closed, lines, orders = (int(x) for x in out.strip().split("|"))
        return {"carts": carts, "carts_checked_out": closed, "cart_lines": lines,
                "orders_of_a_cart": orders}

    def settings(self):
        out = self.psql(
            "SELECT name || '=' || setting || coalesce(unit, '') FROM pg_settings WHERE "
            "name IN ('fsync','synchronous_commit','wal_sync_method','shared_buffers',"
            "'max_connections','full_page_writes','server_version') ORDER BY 1")
        return dict(line.split("=", 1) for line in out.split() if "=" in line)

    def pgbench(self, machine, name, clients, seconds, skus, workload, quiet_wait=0):
        script = os.path.join(self.dir, f"{name}.sql")
        with open(script, "w") as f:
            f.write(PG_SCRIPTS[workload].format(skus=skus))
        prefix = os.path.join(self.dir, f"log-{name}")
        cmd = [self.tool("pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
               "-n", "-f", script, "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 2)),
               "-T", str(seconds), "-l", f"--log-prefix={prefix}", "postgres"]
        log(f"pgbench {name}: {workload}, {clients} clients, {seconds} s, {skus} hot SKU(s)")
        with machine.lock(name):
            busy_before = wait_for_quiet(quiet_wait) if quiet_wait else None
            with Sampler(None, None) as sampler:
                r = run(cmd, timeout=seconds + 120, capture=True, check=False)
        if r.returncode != 0:
            raise SetupError(f"pgbench failed ({r.returncode}): {r.stderr[-2000:]}")
        tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
        latencies = []
        per_second = {}
        for path in os.listdir(self.dir):
            if not path.startswith(f"log-{name}"):
                continue
            with open(os.path.join(self.dir, path)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 6:
                        latencies.append(int(parts[2]) / 1000.0)
                        sec = int(parts[4])
                        per_second[sec] = per_second.get(sec, 0) + 1
            os.unlink(os.path.join(self.dir, path))
        latencies.sort()
        first = min(per_second) if per_second else 0
        timeline = [{"second": s - first, "transactions": per_second[s]}
                    for s in sorted(per_second) if s - first < seconds]  # no partial last second
        result = {
            "name": name, "workload": workload, "clients": clients, "seconds": seconds,
            "hot_skus": skus,
            "tps": float(tps.group(1)) if tps else None,
            "transactions": len(latencies),
            "failed": int(failed.group(1)) if failed else 0,
            "latency_ms": {"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
                           "p99": percentile(latencies, 99), "p99_9": percentile(latencies, 99.9),
                           "max": latencies[-1] if latencies else 0,
                           "mean": sum(latencies) / len(latencies) if latencies else 0},
            "timeline": timeline,
            "cpu": {"machine_busy_cores": sampler.totals["machine_busy_cores"],
                    "busy_cores_before": busy_before},
        }
        log(f"  {result['tps']:.0f} tps, p99 {result['latency_ms']['p99']:.1f} ms")
        return result

    def stop(self):
        if self.started:
            run(self.as_user + [self.tool("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"],
                timeout=120, check=False, capture=True)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Plots

def write_plots(out_dir, runs, pg_runs):
    """Throughput and latency over time (gnuplot PNG). Returns the file names written."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found (Debian package gnuplot-nox): no plots")
        return []
    series = []
    for name, rep in runs:
        dat = os.path.join(out_dir, f"{name}.dat")
        with open(dat, "w") as f:
            f.write("# second requests checkouts_ok p50_ms p90_ms p99_ms max_ms\n")
            for s in rep["timeline"]:
                if not s.get("in_window", True):
                    continue
                f.write(f"{s['second'] + 1} {s['requests']} {s['checkouts_ok']} {s['p50']} "
                        f"{s['p90']} {s['p99']} {s['max']}\n")
        series.append((name, os.path.basename(dat)))
    pg_series = []
    for rep in pg_runs:
        dat = os.path.join(out_dir, f"{rep['name']}.dat")
        with open(dat, "w") as f:
            f.write("# second transactions\n")
            for s in rep["timeline"]:
                f.write(f"{s['second'] + 1} {s['transactions']}\n")
        pg_series.append((rep["name"], os.path.basename(dat)))

    def plot_list(items, using, style):
        return ", ".join(f"'{dat}' using {using} with {style} title '{name}'"
                         for name, dat in items)

    flash = [s for s in series if s[0].startswith("flash-")]
    checkouts = plot_list(flash, "1:3", "linespoints lw 2")
    if pg_series:
        checkouts += ", " + plot_list(pg_series, "1:2", "lines dt 2 lw 2")
    latency = (plot_list(flash, "1:6", "linespoints lw 2") + ", " +
               plot_list([(n + " p50", d) for n, d in flash], "1:4", "lines dt 2"))
    script = f"""
set terminal pngcairo size 1100,600 font 'sans,10'
set grid
set key outside right
set xlabel 'second of the run'

set output 'throughput.png'
set title 'Completed checkouts per second (tandem flash sale vs PostgreSQL conventional design)'
set ylabel 'checkouts / s'
plot {checkouts}

set output 'requests.png'
set title 'HTTP requests per second'
set ylabel 'requests / s'
plot {plot_list(series, '1:2', 'linespoints lw 2')}

set output 'latency.png'
set title 'Latency per second, all request kinds: p99 (solid) and p50 (dashed)'
set ylabel 'ms'
set logscale y
plot {latency}
"""
    with open(os.path.join(out_dir, "plots.gp"), "w") as f:
        f.write(script)
    r = subprocess.run(["gnuplot", "plots.gp"], cwd=out_dir, capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        log(f"gnuplot failed: {r.stderr[-1000:]}")
        return []
    return ["throughput.png", "requests.png", "latency.png"]


# ---------------------------------------------------------------------------------------------
# The run

def summary_of(rep):
    """The figures of one load run, without its timeline."""
    kinds = {k: {"count": v["count"], "per_second": round(v["per_second"], 1),
                 "status_counts": v["status_counts"],
                 "latency_ms": {q: round(x, 3) for q, x in v["latency_ms"].items()}}
             for k, v in rep["kinds"].items()}
    return {"scenario": rep["scenario"], "mode": rep["mode"], "rate": rep["rate"],
            "connections": rep["connections"], "window_seconds": round(rep["window_seconds"], 2),
            "requests": rep["requests"],
            "requests_per_second": round(rep["requests_per_second"], 1),
            "checkouts_ok": rep["checkouts_ok"],
            "checkouts_per_second": round(rep["checkouts_per_second"], 1),
            "status_counts": rep["status_counts"], "count_5xx": rep["count_5xx"],
            "errors": rep["errors"], "latency_ms": rep["latency_ms"], "kinds": kinds,
            "cpu": rep.get("cpu"), "samples": rep.get("samples"),
            "server_cpu": rep.get("server_cpu"),
            "server_cpu_us_per_checkout": rep.get("server_cpu_us_per_checkout"),
            "writer_cpu_us_per_checkout": rep.get("writer_cpu_us_per_checkout"),
            "server_threads": rep.get("server_threads"),
            "json_file": rep["json_file"], "orders_file": rep["orders_file"]}


class Checks:
    def __init__(self):
        self.items = []

    def add(self, name, ok, detail=""):
        self.items.append({"name": name, "ok": bool(ok), "detail": detail})
        log(f"check {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    def ok(self):
        return all(c["ok"] for c in self.items)


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, (int,)) or (isinstance(x, float) and digits == 0):
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def summary_markdown(results):
    lines = []
    lines.append("| run | connections | checkouts/s | requests/s | p99 1st request ms | p99 add ms "
                 "| p99 checkout ms | p99 all ms | server CPU µs per checkout (writer) | statuses "
                 "| 5xx | transport errors | server cores (busiest thread) | loadgen cores "
                 "| other work cores |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for name, s in results["runs"].items():
        k = s["kinds"]

        def kp(kind):
            return k[kind]["latency_ms"]["p99"] if kind in k else None
        first = kp("cart_create") if "cart_create" in k else kp("healthz") or kp("search")
        statuses = " ".join(f"{c}:{n}" for c, n in sorted(s["status_counts"].items()))
        cpu = s.get("cpu") or {}
        lines.append(
            f"| {name} | {s['connections']} | {fmt(s['checkouts_per_second'], 0)} | "
            f"{fmt(s['requests_per_second'], 0)} | {fmt(first, 2)} | {fmt(kp('cart_add'), 2)} | "
            f"{fmt(kp('checkout'), 2)} | {fmt(s['latency_ms']['p99'], 2)} | "
            f"{fmt(s.get('server_cpu_us_per_checkout'), 1)} "
            f"({fmt(s.get('writer_cpu_us_per_checkout'), 1)}) | {statuses} | "
            f"{s['count_5xx']} | {sum(s['errors'].values())} | "
            f"{cpu.get('server_cores', '–')} ({cpu.get('server_busiest_thread_cores', '–')}) | "
            f"{cpu.get('loadgen_cores', '–')} | {cpu.get('other_cores', '–')} |")
    if results.get("postgres", {}).get("runs"):
        lines.append("")
        lines.append("| conventional (PostgreSQL, pgbench) | workload | clients | hot SKUs "
                     "| checkouts/s | p50 ms | p99 ms | max ms | failed |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in results["postgres"]["runs"]:
            lat = r["latency_ms"]
            lines.append(f"| {r['name']} | {r['workload']} | {r['clients']} | {r['hot_skus']} | "
                         f"{fmt(r['tps'], 0)} | "
                         f"{fmt(lat['p50'], 2)} | {fmt(lat['p99'], 2)} | {fmt(lat['max'], 2)} | "
                         f"{r['failed']} |")
    if results.get("comparison"):
        lines.append("")
        lines.append("| connections / clients | hot SKUs | conventional workload "
                     "| tandem checkouts/s | conventional checkouts/s | ratio "
                     "| tandem p99 ms | conventional p99 ms |")
        lines.append("|---:|---:|---|---:|---:|---:|---:|---:|")
        for c in results["comparison"]:
            lines.append(f"| {c['clients']} | {c['hot_skus']} | {c['conventional_workload']} | "
                         f"{fmt(c['tandem_checkouts_per_second'], 0)} | "
                         f"{fmt(c['conventional_checkouts_per_second'], 0)} | "
                         f"{fmt(c['ratio'], 1)}× | {fmt(c['tandem_p99_ms'], 2)} | "
                         f"{fmt(c['conventional_p99_ms'], 2)} |")
    if results.get("in_process", {}).get("benchmarks"):
        lines.append("")
        lines.append("| in process (tandem-write-path-bench) | per second | writer µs each |")
        lines.append("|---|---:|---:|")
        for b in results["in_process"]["benchmarks"]:
            lines.append(f"| {b['name']} | {fmt(b['items_per_second'], 0)} | "
                         f"{fmt(b['writer_us'], 1) if b['writer_us'] else '–'} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The login benchmark (issue 25)

HASH_THREAD = "tandem-hash"  # the server's name for its password-hashing threads


def hashing_summary(rep, kind):
    """Logins or sign-ups of one run: answered per status, served per second, latency of the
    served and of the refused, the hashing threads' CPU per one served."""
    k = rep["kinds"].get(kind, {"count": 0, "status_counts": {}, "latency_ms": {}})
    refused = rep["kinds"].get("refused", {"count": 0, "latency_ms": {}})
    served = int(k["status_counts"].get("200" if kind == "login" else "201", 0))
    cpu = (rep.get("server_cpu") or {}).get("thread_seconds", {}).get(HASH_THREAD)
    return {"answered": k["count"], "status_counts": k["status_counts"], "served": served,
            "served_per_second": round(served / rep["window_seconds"], 1),
            "latency_ms": k["latency_ms"], "refused": refused["count"],
            "refused_latency_ms": refused["latency_ms"],
            "refused_without_retry_after": rep["errors"].get("503_without_retry_after", 0),
            "transport_errors": sum(n for e, n in rep["errors"].items()
                                    if e != "503_without_retry_after"),
            "hash_cpu_ms_per_served": round(cpu * 1000 / served, 1) if cpu and served else None}


def run_logins(args, p, machine, lg, tandem_bin, tmp_root, data_dir, out_dir, results, started):
    """--logins: see the module's docstring. Returns the exit code."""
    checks = Checks()
    targets = not args.quick  # --quick asserts no timing
    server = Tandem(tandem_bin, data_dir)
    lg.server = server
    runs = {}
    try:
        server.cli("user", "add", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
                   "--role", "admin", "--name", "Bench admin")
        server.start()
        manifest = lg.seed(server.port, os.path.join(out_dir, "manifest.json"), p,
                           p["seed_connections"], customers=p["login_customers"])
        hot = os.path.join(out_dir, "hot.txt")
        with open(hot, "w") as f:
            f.write("\n".join(manifest["hot_skus"]) + "\n")
        accounts = ["--accounts", p["login_customers"]]

        # Capacity: closed loop within the lane's threads and queue, so that nothing is refused.
        for scenario in ("login", "signup"):
            name = f"{scenario}-capacity"
            runs[name] = lg.run(name, server.port, scenario, p["login_connections"],
                                p["login_seconds"], orders=False, extra=accounts)
        capacity = hashing_summary(runs["login-capacity"], "login")["served_per_second"]
        rate = args.storm_rate or max(2.0, round(2 * capacity))

        c, secs = p["storm_flash_connections"], p["storm_flash_seconds"]
        runs["flash-alone"] = lg.run("flash-alone", server.port, "flash", c, secs, skus=hot)
        # The storm starts a second before the flash sale and ends a second after it; both under
        # one hold of the machine lock.
        storm_json = os.path.join(out_dir, "login-storm.json")
        storm_cmd = lg.cmd("run", server.port, "--scenario", "login", "--connections",
                           p["storm_connections"], "--duration-seconds", secs + 2, "--rate", rate,
                           "--json", storm_json, "--label", "login-storm", "--quiet",
                           "--server-pid", server.proc.pid, *accounts)
        log(f"login storm at {rate:.0f} logins/s (twice the capacity of {capacity:.1f}) beside "
            f"the flash sale at {c} connections")
        with machine.lock("flash-storm"):
            wait_for_quiet(lg.quiet_wait)
            storm = subprocess.Popen(storm_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
            try:
                time.sleep(1)
                runs["flash-storm"] = lg.run("flash-storm", server.port, "flash", c, secs,
                                             skus=hot, locked=True)
                out, err = storm.communicate(timeout=secs + 120)
            finally:
                if storm.poll() is None:
                    storm.kill()
                    storm.wait()
        print(out, end="", flush=True)
        if storm.returncode != 0:
            raise SetupError(f"the login storm exited with {storm.returncode}: {err[-2000:]}")
        with open(storm_json) as f:
            runs["login-storm"] = json.load(f)

        orders = [os.path.join(out_dir, runs[n]["orders_file"]) for n in ("flash-alone",
                                                                           "flash-storm")]
        v = lg.verify(server.port, orders, p["verify_connections"])
        rc = server.stop()
    finally:
        if server.alive():
            server.kill9()
        if not args.keep_data:
            shutil.rmtree(tmp_root, ignore_errors=True)

    login = hashing_summary(runs["login-capacity"], "login")
    signup = hashing_summary(runs["signup-capacity"], "signup")
    storm = hashing_summary(runs["login-storm"], "login")
    alone, beside = summary_of(runs["flash-alone"]), summary_of(runs["flash-storm"])
    out = {"machine": results["machine"], "parameters": p, "storm_rate": rate,
           "login": login, "signup": signup, "storm": storm, "flash_alone": alone,
           "flash_storm": beside, "verify_orders": v}

    checks.add("every order answered 201 exists with its SKU", v["ok"],
               f"{v['found']} of {v['orders']} found")
    checks.add("graceful stop", rc == 0, f"exit code {rc}")
    for name, r in (("login capacity", login), ("sign-up capacity", signup)):
        checks.add(f"{name}: every answer served, none refused, no transport error",
                   r["served"] == r["answered"] and r["answered"] > 0 and not r["transport_errors"],
                   f"{r['status_counts']}, {r['transport_errors']} transport errors")
    checks.add("storm: every login served or refused with 503 and Retry-After, none timed out",
               set(storm["status_counts"]) <= {"200", "503"} and not storm["transport_errors"]
               and not storm["refused_without_retry_after"],
               f"{storm['status_counts']}, {storm['transport_errors']} transport errors")
    checks.add("flash sale beside the storm: every request answered, no 5xx",
               beside["count_5xx"] == 0 and not beside["errors"] and beside["checkouts_ok"] > 0,
               f"{beside['status_counts']}")
    if targets:
        checks.add("target: at least 50 logins/s", login["served_per_second"] >= 50,
                   f"{login['served_per_second']} logins/s")
        checks.add("target: flash p99 at most 25 ms during the storm",
                   beside["latency_ms"]["p99"] <= 25, f"{beside['latency_ms']['p99']} ms")
        worst = storm["refused_latency_ms"].get("max", 0)
        checks.add("target: every refused login answered within 100 ms",
                   storm["refused"] > 0 and worst <= 100,
                   f"{storm['refused']} refused, slowest {worst} ms")
    out["checks"] = checks.items
    out["ok"] = checks.ok()
    out["seconds"] = round(time.monotonic() - started, 1)
    with open(os.path.join(out_dir, "logins.json"), "w") as f:
        json.dump(out, f, indent=1)
    md = logins_markdown(out)
    with open(os.path.join(out_dir, "logins.md"), "w") as f:
        f.write(md)
    print()
    print(md)
    print(f"\n{'ALL CHECKS PASSED' if out['ok'] else 'SOME CHECKS FAILED'} in "
          f"{out['seconds']:.0f} s; results in {out_dir}")
    return 0 if out["ok"] else 1


def logins_markdown(out):
    lines = ["| run | connections | served/s | statuses | p50 ms | p99 ms | refused | refused "
             "p99 / max ms | hashing CPU ms per served |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    p = out["parameters"]
    for name, r, conns in (("logins, closed loop", out["login"], p["login_connections"]),
                           ("sign-ups, closed loop", out["signup"], p["login_connections"]),
                           (f"login storm at {out['storm_rate']:.0f}/s (open loop)", out["storm"],
                            p["storm_connections"])):
        statuses = " ".join(f"{c}:{n}" for c, n in sorted(r["status_counts"].items()))
        lat, ref = r["latency_ms"], r["refused_latency_ms"]
        lines.append(f"| {name} | {conns} | {fmt(r['served_per_second'], 1)} | {statuses} | "
                     f"{fmt(lat.get('p50'), 1)} | {fmt(lat.get('p99'), 1)} | {r['refused']} | "
                     f"{fmt(ref.get('p99'), 2)} / {fmt(ref.get('max'), 2)} | "
                     f"{fmt(r['hash_cpu_ms_per_served'], 1)} |")
    lines += ["", "| flash sale | connections | checkouts/s | p50 ms | p99 ms | p99.9 ms "
              "| statuses | server cores |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    for name, s in (("alone", out["flash_alone"]), ("beside the login storm",
                                                    out["flash_storm"])):
        statuses = " ".join(f"{c}:{n}" for c, n in sorted(s["status_counts"].items()))
        lat = s["latency_ms"]
        lines.append(f"| {name} | {s['connections']} | {fmt(s['checkouts_per_second'], 0)} | "
                     f"{fmt(lat['p50'], 2)} | {fmt(lat['p99'], 2)} | {fmt(lat['p99_9'], 2)} | "
                     f"{statuses} | {(s.get('cpu') or {}).get('server_cores', '–')} |")
    lines += [""] + [f"- {'ok' if c['ok'] else 'FAIL'}: {c['name']} ({c['detail']})"
                     for c in out["checks"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Tandem benchmark runner (see docs/performance.md)")
    ap.add_argument("--quick", action="store_true", help="tiny setting, under a minute")
    ap.add_argument("--out", help="results folder (default bench/results; --quick: a temp dir)")
    ap.add_argument("--bin", help="tandem binary (default: build it, build/release/...)")
    ap.add_argument("--loadgen", help="tandem-loadgen binary (default: build/release/bench/...)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    ap.add_argument("--lock", default=None,
                    help=f"machine lock file (default {DEFAULT_LOCK}; --quick: none)")
    ap.add_argument("--no-lock", action="store_true", help="take no machine lock")
    ap.add_argument("--server-threads", type=int, default=0,
                    help="tandem serve --io-threads (default: the server's own, one per core but one)")
    ap.add_argument("--connections", help="flash-sale connection counts, e.g. 64,256,1024")
    ap.add_argument("--flash-seconds", type=float, help="seconds per flash-sale run")
    ap.add_argument("--loadgen-threads", type=int, default=1, help="load generator threads")
    ap.add_argument("--open-rate", type=float, default=0,
                    help="open-loop sessions/s (default: half the closed-loop 256 throughput)")
    ap.add_argument("--skip-pg", action="store_true", help="no PostgreSQL comparison")
    ap.add_argument("--skip-in-process", action="store_true",
                    help="no in-process benchmark (tandem-write-path-bench)")
    ap.add_argument("--skip-extra", action="store_true",
                    help="only the flash sale and the sell-out (no one-SKU runs, open loop, browse, "
                         "ceiling, server-threads sweep)")
    ap.add_argument("--sweep-threads",
                    help="after the main runs, the flash sale again with tandem serve "
                         "--io-threads N for each N (default 1,4; --quick: 1; skipped with "
                         "--server-threads)")
    ap.add_argument("--quiet-wait", type=float, default=None,
                    help="before each load run, wait up to this many seconds for other work on "
                         "the machine to stop (default 60; --quick: 0)")
    ap.add_argument("--tmp", help="where the data folders go (default: the system temp dir)")
    ap.add_argument("--keep-data", action="store_true", help="keep the tandem data folder")
    ap.add_argument("--logins", action="store_true",
                    help="the login benchmark (issue 25) instead: logins/s, sign-ups/s, the flash "
                         "sale alone and during a storm of logins at twice the login capacity")
    ap.add_argument("--storm-rate", type=float, default=0,
                    help="--logins: the storm's logins/s (default: twice the capacity measured)")
    args = ap.parse_args(argv)

    p = dict(QUICK if args.quick else FULL)
    if args.connections:
        p["flash_connections"] = [int(x) for x in args.connections.split(",") if x]
    if args.flash_seconds:
        p["flash_seconds"] = args.flash_seconds
    if args.sweep_threads is not None:
        p["sweep_threads"] = [int(x) for x in args.sweep_threads.split(",") if x]
    lock_path = None if args.no_lock else (args.lock or (None if args.quick else DEFAULT_LOCK))
    machine = Machine(lock_path)
    out_dir = args.out or (tempfile.mkdtemp(prefix="tandem-bench-quick-") if args.quick
                           else os.path.join(REPO, "bench", "results"))
    os.makedirs(out_dir, exist_ok=True)
    started = time.monotonic()
    # --quick without --bin/--loadgen: the release build if there is one, else the debug build.
    flavour = "release"
    if args.quick and not os.path.exists(os.path.join(REPO, "build", "release", "bench",
                                                      "tandem-loadgen")):
        flavour = "debug"
    tandem_bin = args.bin or os.path.join(REPO, "build", flavour, "src", "tandem", "tandem")
    loadgen_bin = args.loadgen or os.path.join(REPO, "build", flavour, "bench", "tandem-loadgen")
    results = {"started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "quick": args.quick, "parameters": p, "runs": {}}
    checks = Checks()

    # 1. build
    if not args.quick and not args.no_build and not args.bin and not args.loadgen:
        build_release(machine)
    # The in-process benchmark is built beside the load generator.
    write_path_bin = os.path.join(os.path.dirname(loadgen_bin), "tandem-write-path-bench")
    needed = [tandem_bin, loadgen_bin] + ([] if args.skip_in_process or args.logins
                                          else [write_path_bin])
    for b in needed:
        if not os.access(b, os.X_OK):
            raise SetupError(f"{b} is missing: build it (make build-release; cmake --build "
                             "build/release --target tandem-loadgen tandem-write-path-bench), "
                             "give --bin/--loadgen, or --skip-in-process")
    results["binaries"] = {"tandem": tandem_bin, "loadgen": loadgen_bin,
                           "write_path_bench": write_path_bin}
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0 if args.quick else 60)
    lg = Loadgen(loadgen_bin, machine, out_dir, quiet_wait=quiet_wait)
    lg_extra = ["--threads", args.loadgen_threads] if args.loadgen_threads > 1 else []

    tmp_root = tempfile.mkdtemp(prefix="tandem-bench-", dir=args.tmp)
    data_dir = os.path.join(tmp_root, "data")
    os.makedirs(data_dir)
    results["machine"] = machine_info(data_dir)
    with machine.lock("fdatasync probe"):
        results["machine"]["fdatasync_per_second"] = round(
            fdatasync_rate(data_dir, 0.5 if args.quick else 2.0))
    log(f"machine: {results['machine']}")
    if args.logins:
        return run_logins(args, p, machine, lg, tandem_bin, tmp_root, data_dir, out_dir, results,
                          started)

    # 2. in process, first, on a quiet machine: run after the HTTP load, the same benchmark
    # measured 22-35 % slower.
    if args.skip_in_process:
        results["in_process"] = {"skipped": "--skip-in-process"}
    else:
        results["in_process"] = in_process(write_path_bin, machine, p["in_process_filter"],
                                           quiet_wait)

    server_args = ["--io-threads", str(args.server_threads)] if args.server_threads else []
    server = Tandem(tandem_bin, data_dir, server_args)
    lg.server = server
    pg = None
    try:
        server.cli("user", "add", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
                   "--role", "admin", "--name", "Bench admin")
        server.start()
        results["server"] = {"args": server_args or ["(defaults)"], "port": server.port}
        log(f"tandem serving on 127.0.0.1:{server.port} {' '.join(server_args)}")

        # 3. seed
        manifest = lg.seed(server.port, os.path.join(out_dir, "manifest.json"), p,
                           p["seed_connections"])
        hot = manifest["hot_skus"]
        sellout_sku = manifest["sellout_skus"][0]
        files = {}
        for key, values in (("hot", hot), ("one", hot[:1]), ("normal", manifest["normal_skus"]),
                            ("products", manifest["product_ids"])):
            files[key] = os.path.join(out_dir, f"{key}.txt")
            with open(files[key], "w") as f:
                f.write("\n".join(map(str, values)) + "\n")
        results["seed"] = {"skus": manifest["sku_count"], "products": len(manifest["product_ids"]),
                           "locations": manifest["locations"], "hot_skus": len(hot),
                           "hot_stock": p["hot_stock"], "sellout_stock": p["sellout_stock"],
                           "adjustments": manifest["adjustments"],
                           "seconds": round(manifest["seconds"], 1)}

        # 4. load
        reports = {}
        for c in p["flash_connections"]:
            name = f"flash-{c}"
            for k in range(2, 100):
                if name not in reports:
                    break
                name = f"flash-{c}-{k}"
            reports[name] = lg.run(name, server.port, "flash", c, p["flash_seconds"],
                                   skus=files["hot"], extra=lg_extra)
        if not args.skip_extra:
            # The same flash sale on one hot SKU: the conventional design's worst case, compared
            # below.
            for c in p["one_sku_connections"]:
                name = f"flash-1sku-{c}"
                reports[name] = lg.run(name, server.port, "flash", c, p["one_sku_seconds"],
                                       skus=files["one"], extra=lg_extra)
            base = reports.get(f"flash-{p['open_connections']}") or next(iter(reports.values()))
            rate = args.open_rate or max(1.0, round(base["checkouts_per_second"] / 2, -1))
            reports["flash-open"] = lg.run("flash-open", server.port, "flash",
                                           p["open_connections"], p["open_seconds"],
                                           skus=files["hot"], rate=rate, extra=lg_extra)
            reports["browse"] = lg.run("browse", server.port, "browse", p["browse_connections"],
                                       p["browse_seconds"], skus=files["normal"],
                                       products=files["products"], orders=False, extra=lg_extra)
            reports["ceiling-healthz"] = lg.run("ceiling-healthz", server.port, "healthz",
                                                p["ceiling_connections"], p["ceiling_seconds"],
                                                orders=False, extra=lg_extra)
        reports["sellout"] = lg.run("sellout", server.port, "flash", p["sellout_connections"],
                                    p["sellout_seconds"], skus=sellout_sku, extra=lg_extra)
        # The same flash sale with fewer and more I/O threads than cores (the server restarted on
        # the same data).
        if not args.skip_extra and not args.server_threads:
            for threads in p["sweep_threads"]:
                rc = server.stop()
                if rc != 0:
                    checks.add(f"graceful stop before --io-threads {threads}", False, f"exit {rc}")
                server.extra = ["--io-threads", str(threads)]
                server.start()
                name = f"flash-{p['sweep_connections']}-io-threads-{threads}"
                reports[name] = lg.run(name, server.port, "flash", p["sweep_connections"],
                                       p["sweep_seconds"], skus=files["hot"], extra=lg_extra)
                reports[name]["server_threads"] = threads
        for name, rep in reports.items():
            results["runs"][name] = summary_of(rep)

        # 5. verify
        order_files = [os.path.join(out_dir, r["orders_file"]) for r in reports.values()
                       if r.get("orders_file")]
        v = lg.verify(server.port, order_files, p["verify_connections"])
        results["verify_orders"] = v
        checks.add("every order answered 201 exists with its SKU", v["ok"],
                   f"{v['found']} of {v['orders']} found, {v['wrong_sku']} with another SKU, "
                   f"{v['duplicate_ids']} duplicate ids")
        total_5xx = sum(r["count_5xx"] for r in reports.values())
        total_errors = sum(r["error_count"] for r in reports.values())
        checks.add("no 5xx answer in any run", total_5xx == 0, f"{total_5xx} 5xx")
        checks.add("no transport error (timeout, reset) in any run", total_errors == 0,
                   f"{total_errors} errors")

        answered = read_orders(*order_files)
        token = server.login()
        stock_report = {}
        oversold, mismatched = [], []
        for sku in hot + [sellout_sku]:
            s = server.stock(sku, token)
            stock_report[sku] = {"stock": manifest["stock"][sku], "on_hand": s["on_hand"],
                                 "allocated": s["allocated"], "reserved": s["reserved"],
                                 "answered_201": answered.get(sku, 0)}
            if (s["allocated"] + s["reserved"] > s["on_hand"] or s["negative_levels"]
                    or s["allocated"] > manifest["stock"][sku]):
                oversold.append(sku)
            if s["allocated"] != answered.get(sku, 0):
                mismatched.append(sku)
        results["stock"] = stock_report
        checks.add("no SKU sold more than it had (allocated + reserved <= on hand)",
                   not oversold, f"oversold: {oversold}" if oversold else
                   f"{len(stock_report)} SKUs checked")
        checks.add("units allocated = orders answered 201, per SKU", not mismatched,
                   f"mismatch: {[(s, stock_report[s]) for s in mismatched][:5]}"
                   if mismatched else "")

        so = reports["sellout"]
        add = so["kinds"].get("cart_add", {"status_counts": {}, "latency_ms": {}})
        add_status = add["status_counts"]
        checkout_status = so["kinds"].get("checkout", {"status_counts": {}})["status_counts"]
        sold = stock_report[sellout_sku]["allocated"]
        refused = int(add_status.get("409", 0))
        results["sellout_result"] = {
            "stock": p["sellout_stock"], "sold": sold, "checkouts_201": so["checkouts_ok"],
            "add_statuses": add_status, "checkout_statuses": checkout_status,
            "refused_409": refused, "add_p99_ms": add["latency_ms"].get("p99"),
            "add_max_ms": add["latency_ms"].get("max")}
        checks.add("sell-out: exactly the stock sold",
                   sold == p["sellout_stock"] and so["checkouts_ok"] == p["sellout_stock"],
                   f"{sold} allocated, {so['checkouts_ok']} answered 201, stock "
                   f"{p['sellout_stock']}")
        checks.add("sell-out: every other attempt answered 409",
                   set(add_status) <= {"201", "409"} and int(add_status.get("201", 0)) ==
                   p["sellout_stock"] and set(checkout_status) <= {"201"} and refused > 0,
                   f"add {add_status}, checkout {checkout_status}, add p99 "
                   f"{add['latency_ms'].get('p99')} ms")

        rc = server.stop()
        checks.add("graceful stop", rc == 0, f"exit code {rc}")
        code, text = server.check()
        checks.add("tandem check clean after the run", code == 0, text.splitlines()[-1] if text
                   else "")

        # 6. PostgreSQL
        if args.skip_pg:
            results["postgres"] = {"skipped": "--skip-pg"}
        elif not find_pg_bin()[0]:
            results["postgres"] = {"skipped": "PostgreSQL not installed"}
            log("PostgreSQL not installed: no comparison (bench/run.sh installs it)")
        else:
            pg = Postgres(args.tmp)
            log(f"PostgreSQL {pg.version} throwaway cluster on 127.0.0.1:{pg.port}")
            with machine.lock("postgres start"):
                pg.start()
            pg_runs = []
            for workload, prefix in (("checkout", "pg"), ("session", "pg-session")):
                for c in p["pg_clients"]:
                    pg_runs.append(pg.pgbench(machine, f"{prefix}-{c}", c, p["pg_seconds"], 20,
                                              workload, quiet_wait))
                for c in p["pg_single_clients"]:
                    pg_runs.append(pg.pgbench(machine, f"{prefix}-1sku-{c}", c, p["pg_seconds"],
                                              1, workload, quiet_wait))
            results["postgres"] = {"version": pg.version, "settings": pg.settings(),
                                   "scripts": {w: t.format(skus=20)
                                               for w, t in PG_SCRIPTS.items()},
                                   "runs": pg_runs, "session_counts": pg.session_counts()}
            pg.stop()
            pg = None
            comparison = []
            for r in pg_runs:
                # Like for like: the 20-SKU runs against the flash sale on every hot SKU, the
                # one-SKU runs against the flash sale on the first hot SKU alone.
                t = results["runs"].get(f"flash-{r['clients']}" if r["hot_skus"] > 1 else
                                        f"flash-1sku-{r['clients']}")
                if t and r["tps"]:
                    comparison.append({
                        "clients": r["clients"], "hot_skus": r["hot_skus"],
                        "conventional_workload": r["workload"],
                        "tandem_checkouts_per_second": t["checkouts_per_second"],
                        "conventional_checkouts_per_second": r["tps"],
                        "ratio": t["checkouts_per_second"] / r["tps"],
                        # The same unit on both sides: the checkout request beside the
                        # checkout transaction, the whole session beside the session.
                        "tandem_p99_ms": t["kinds"].get(
                            "checkout" if r["workload"] == "checkout" else "session",
                            {}).get("latency_ms", {}).get("p99"),
                        "conventional_p99_ms": r["latency_ms"]["p99"]})
            results["comparison"] = comparison

        # 7. plots and summary
        plot_runs = [(n, reports[n]) for n in reports if n.startswith("flash-") or
                     n == "ceiling-healthz"]
        results["plots"] = write_plots(
            out_dir, plot_runs, results.get("postgres", {}).get("runs", []))
    finally:
        if server.alive():
            server.kill9()
        if pg is not None:
            pg.stop()
        if not args.keep_data:
            shutil.rmtree(tmp_root, ignore_errors=True)
        else:
            log(f"data kept in {data_dir}")

    ceiling = results["runs"].get("ceiling-healthz")
    flash256 = results["runs"].get("flash-256")
    if ceiling and flash256:
        results["ceiling"] = {
            "healthz_requests_per_second": ceiling["requests_per_second"],
            "flash_256_requests_per_second": flash256["requests_per_second"],
            "fraction": flash256["requests_per_second"] / ceiling["requests_per_second"]}
    results["checks"] = checks.items
    results["ok"] = checks.ok()
    results["seconds"] = round(time.monotonic() - started, 1)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    md = summary_markdown(results)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(md)
    print()
    print(md)
    if results.get("ceiling"):
        c = results["ceiling"]
        print(f"ceiling: GET /healthz {c['healthz_requests_per_second']:,.0f} requests/s; "
              f"the flash sale at 256 connections reaches {c['fraction'] * 100:.0f} % of it "
              "in requests/s")
    s = results.get("sellout_result")
    if s:
        print(f"sell-out: {s['sold']} of {s['stock']} sold, {s['refused_409']} attempts answered "
              f"409 (add p99 {s['add_p99_ms']} ms)")
    print(f"\n{'ALL CHECKS PASSED' if results['ok'] else 'SOME CHECKS FAILED'} in "
          f"{results['seconds']:.0f} s; results in {out_dir}")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    exit_with(main)
