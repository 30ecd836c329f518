"""Smoke test of the benchmark tooling (issue 4): `bench/run.sh --quick` end to end.

It proves that the load generator, the seeder, the verifier, the runner's checks, the report,
the in-process benchmark and (when PostgreSQL is installed) the pgbench comparison work. It never
asserts a timing.

Binaries: TANDEM_BIN (default: the debug build) and TANDEM_LOADGEN (default: the tandem-loadgen
of the same build folder). Run:  /usr/bin/python3 -m pytest -q bench/test_bench_smoke.py
"""

import json
import os
import re
import socket
import sqlite3
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TANDEM_BIN", os.path.join(REPO, "build", "debug", "src", "tandem", "tandem"))
LOADGEN = os.environ.get(
    "TANDEM_LOADGEN",
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(BIN)))),
                 "bench", "tandem-loadgen"))

LATENCY_FIELDS = {"p50", "p90", "p99", "p99_9", "max", "mean"}
REPORT_FIELDS = {"scenario", "mode", "connections", "duration_seconds", "window_seconds",
                 "requests", "requests_per_second", "checkouts_ok", "checkouts_per_second",
                 "status_counts", "count_5xx", "errors", "latency_ms", "kinds", "timeline"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    for path in (BIN, LOADGEN):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: build it first (cmake --build build/debug)")
    out = tmp_path_factory.mktemp("bench-quick")
    r = subprocess.run(["/bin/sh", os.path.join(REPO, "bench", "run.sh"), "--quick", "--out",
                        str(out), "--bin", BIN, "--loadgen", LOADGEN],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"run.sh --quick exited with {r.returncode}\n" \
                              f"{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    return out, json.loads((out / "results.json").read_text())


def test_the_runner_made_its_checks(quick):
    # run.sh exits 0 only when every check passed (the fixture asserts it); here: none went
    # missing.
    _, results = quick
    names = {c["name"] for c in results["checks"]}
    assert any("every order answered 201 exists" in n for n in names)
    assert any("tandem check" in n for n in names)
    assert {"no 5xx answer in any run", "sell-out: exactly the stock sold",
            "sell-out: every other attempt answered 409"} <= names, names


def test_load_reports_have_the_fields(quick):
    out, results = quick
    expected = {"flash-4", "flash-16", "flash-1sku-4", "flash-open", "browse", "ceiling-healthz",
                "sellout"}
    assert expected <= set(results["runs"]), results["runs"].keys()
    for name in expected:
        with open(out / results["runs"][name]["json_file"]) as f:
            report = json.load(f)
        assert REPORT_FIELDS <= set(report), (name, REPORT_FIELDS - set(report))
        assert report["requests"] > 0, name
        assert LATENCY_FIELDS <= set(report["latency_ms"]), name
        for kind, k in report["kinds"].items():
            assert LATENCY_FIELDS <= set(k["latency_ms"]), (name, kind)
            assert k["count"] == sum(k["status_counts"].values()), (name, kind)
        assert report["timeline"] and {"second", "requests", "checkouts_ok", "p50", "p99"} <= \
            set(report["timeline"][0]), name
    assert results["runs"]["flash-open"]["mode"] == "open"
    flash = results["runs"]["flash-4"]
    assert set(flash["kinds"]) >= {"cart_create", "cart_add", "checkout", "session"}
    assert flash["checkouts_ok"] > 0
    with open(out / flash["orders_file"]) as f:
        assert len(f.read().splitlines()) == flash["checkouts_ok"]
    assert set(results["runs"]["browse"]["kinds"]) >= {"search", "product", "cart_add",
                                                       "cart_view"}


def test_flash_runs_give_the_servers_cpu_per_checkout(quick):
    """Each flash-sale run has the server's CPU per checkout (user + system, all threads, read from
    /proc by the load generator over its window) and its writer thread's share; never a timing."""
    out, results = quick
    for name in ("flash-4", "flash-16"):
        run = results["runs"][name]
        assert run["server_cpu"]["pid"] > 0, run["server_cpu"]
        assert run["server_cpu_us_per_checkout"] > 0, run["server_cpu"]
        assert 0 < run["writer_cpu_us_per_checkout"] <= run["server_cpu_us_per_checkout"], \
            run["server_cpu"]
    assert "| server CPU µs per checkout (writer) |" in (out / "summary.md").read_text()


def test_summary_and_postgres(quick):
    out, results = quick
    assert (out / "summary.md").read_text().startswith("| run |")
    pg = results["postgres"]
    if "skipped" not in pg:
        assert pg["runs"] and pg["runs"][0]["transactions"] > 0 and pg["runs"][0]["failed"] == 0
        # Each conventional run, in both workloads, is set beside the flash sale on as many hot
        # SKUs: 20, and one.
        assert {(c["clients"], c["hot_skus"], c["conventional_workload"])
                for c in results["comparison"]} == {(4, 20, "checkout"), (4, 1, "checkout"),
                                                    (4, 20, "session"), (4, 1, "session")}
        assert all(c["ratio"] > 0 for c in results["comparison"])
        # The session workload ran its three steps: every cart got its line, and every cart but
        # those of the sessions cut off at the end of a run (one per client at most) was checked
        # out.
        counts = pg["session_counts"]
        session_runs = [r for r in pg["runs"] if r["workload"] == "session"]
        sessions = sum(r["transactions"] for r in session_runs)
        clients = sum(r["clients"] for r in session_runs)
        assert counts["cart_lines"] == counts["carts"], counts
        assert counts["carts"] - counts["carts_checked_out"] <= clients, counts
        assert counts["orders_of_a_cart"] == counts["carts_checked_out"] >= sessions > 0, counts


def test_loadgen_refuses_bad_options():
    r = subprocess.run([LOADGEN, "run", "--connections", "0"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "--connections" in r.stderr
    r = subprocess.run([LOADGEN, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "usage" in r.stdout


def test_loadgen_times_out_a_server_that_never_answers(tmp_path):
    # A listener that accepts and never answers: every request must end as a "timeout" transport
    # error after --timeout-ms, and the run must still end (the watchdog, not the server, ends it).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        report = tmp_path / "report.json"
        r = subprocess.run([LOADGEN, "run", "--port", str(port), "--scenario", "healthz",
                            "--connections", "2", "--duration-seconds", "0.5", "--timeout-ms",
                            "300", "--json", str(report), "--quiet"],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = json.loads(report.read_text())
    assert data["requests"] >= 2
    assert data["errors"] == {"timeout": data["requests"]}
    assert data["status_counts"] == {"0": data["requests"]}


def test_in_process_benchmark_reports_the_writers_time(quick):
    """The runner's in-process phase (tandem-write-path-bench, Google Benchmark) ran its
    pipelined checkouts to the end (a failed write aborts it), reported the writer thread's time
    per checkout (read from /proc), and ran the bare loop beside them."""
    out, results = quick
    runs = {b["name"].split("/")[0]: b for b in results["in_process"]["benchmarks"]}
    assert set(runs) == {"BM_CheckoutPipelined", "BM_CheckoutOfHeldCarts",
                         "BM_BareCheckoutLoop"}, runs.keys()
    for run in runs.values():
        assert run["items_per_second"] > 0, run
    for name in ("BM_CheckoutPipelined", "BM_CheckoutOfHeldCarts"):
        run = runs[name]
        # Above zero: the writer thread was found; below the run's time per checkout.
        assert 0 < run["writer_us"] < 1.5e6 / run["items_per_second"], run
    assert "| in process (tandem-write-path-bench) |" in (out / "summary.md").read_text()


def test_wal_frames_names_the_btrees_each_commit_wrote(tmp_path):
    """bench/wal_frames.py on a WAL of known commits: three of 40 rows into a table and its index."""
    conn = sqlite3.connect(tmp_path / "tandem.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL)")
    conn.execute("CREATE INDEX t_k ON t(k)")
    for i in range(3):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t (k) VALUES (?)", [(f"key-{i}-{j}",) for j in range(40)])
        conn.execute("COMMIT")
    try:  # the connection stays open: closing the last one would checkpoint the WAL away
        r = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "bench", "wal_frames.py"),
                            str(tmp_path)], capture_output=True, text=True, timeout=60)
    finally:
        conn.close()
    assert r.returncode == 0, r.stderr
    # Two schema commits and three of rows; every one of the three wrote both b-trees.
    assert re.search(r"^\d+ frames, 5 commits, ", r.stdout, re.M), r.stdout
    per_commit = {m.group(2): float(m.group(1))
                  for m in re.finditer(r"^\s*([\d.]+)\s+[\d.]+%\s+(\S+)$", r.stdout, re.M)}
    assert per_commit.get("t", 0) >= 0.6 and per_commit.get("t_k", 0) >= 0.6, r.stdout


def test_the_login_benchmark_runs_and_checks_what_it_reports(tmp_path):
    """`bench/run.sh --logins --quick`: logins and sign-ups per second, the flash sale alone and
    beside a storm of logins at twice the capacity; its own checks pass (never a timing)."""
    r = subprocess.run(["/bin/sh", os.path.join(REPO, "bench", "run.sh"), "--logins", "--quick",
                        "--out", str(tmp_path), "--bin", BIN, "--loadgen", LOADGEN],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    out = json.loads((tmp_path / "logins.json").read_text())
    for part in ("login", "signup"):
        assert out[part]["served"] > 0 and out[part]["refused"] == 0, out[part]
        assert out[part]["hash_cpu_ms_per_served"] > 0, out[part]
    storm = out["storm"]
    assert out["storm_rate"] >= 2 * out["login"]["served_per_second"] - 1, out["storm_rate"]
    assert set(storm["status_counts"]) <= {"200", "503"}, storm
    assert storm["refused_without_retry_after"] == 0 and storm["transport_errors"] == 0, storm
    assert out["flash_storm"]["checkouts_ok"] > 0 and out["flash_alone"]["checkouts_ok"] > 0
    assert all(c["ok"] for c in out["checks"]), out["checks"]
    assert (tmp_path / "logins.md").read_text().startswith("| run |")
