"""The tandem command line: demo, check, migrate, backup, settings precedence, graceful stop.

Self-contained (does not use the Server fixture) because each test drives the process itself.
"""

import concurrent.futures
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, START_TIMEOUT, ServeFailed, start_serve


def run(*args, env=None, timeout=120):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def start(data, *extra, env=None):
    """Starts `tandem serve` on a free port; returns (process, port, stderr path)."""
    out_path, err_path = os.path.join(data, "out.log"), os.path.join(data, "err.log")
    os.makedirs(data, exist_ok=True)
    for path in (out_path, err_path):  # each start's logs alone
        open(path, "w").close()
    try:
        proc, port = start_serve([BIN, *extra, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                                 out_path, err_path, START_TIMEOUT, env=env)
    except ServeFailed as e:
        pytest.fail(f"{e}: {open(err_path).read()[-2000:]}")
    return proc, port, err_path


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        raw = r.read()
        return r.status, json.loads(raw) if raw and "json" in r.getheader("Content-Type", "") else raw
    finally:
        conn.close()


@pytest.fixture
def data():
    with tempfile.TemporaryDirectory(prefix="tandem-cli-") as d:
        yield os.path.join(d, "data")


def test_demo_is_idempotent_and_consistent(data):
    first = run("demo", "--data", data)
    assert first.returncode == 0, first.stderr
    assert "admin@tandem.local" in first.stdout and "password" in first.stdout
    second = run("demo", "--data", data)
    assert second.returncode == 0, second.stderr
    db = sqlite3.connect(os.path.join(data, "tandem.db"))
    products = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
    variants = db.execute("SELECT COUNT(*) FROM variants").fetchone()[0]
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM locations GROUP BY kind").fetchall())
    movements = db.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
    db.close()
    assert products >= 200 and variants > products
    assert kinds == {"distribution_centre": 1, "store": 3}
    third = run("demo", "--data", data)
    assert third.returncode == 0
    db = sqlite3.connect(os.path.join(data, "tandem.db"))
    assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == products
    assert db.execute("SELECT COUNT(*) FROM movements").fetchone()[0] == movements
    db.close()
    check = run("check", "--data", data)
    assert check.returncode == 0, check.stdout


def test_check_reports_a_tampered_counter_and_exits_non_zero(data):
    assert run("demo", "--data", data).returncode == 0
    db = sqlite3.connect(os.path.join(data, "tandem.db"))
    sku, loc = db.execute("SELECT sku, location_id FROM stock_levels LIMIT 1").fetchone()
    db.execute("UPDATE stock_levels SET on_hand = on_hand + 1 WHERE sku = ? AND location_id = ?",
               (sku, loc))
    db.commit()
    db.close()
    check = run("check", "--data", data)
    assert check.returncode == 1
    assert sku in check.stdout and "ledger" in check.stdout
    # It reports, it does not fix: a second run finds the same.
    assert run("check", "--data", data).returncode == 1


def test_migrate_applies_once(data):
    first = run("migrate", "--data", data)
    assert first.returncode == 0 and re.search(r"applied [1-9]\d* migration", first.stdout), first.stdout
    second = run("migrate", "--data", data)
    assert second.returncode == 0 and "applied 0 migration" in second.stdout


def test_backup_is_a_consistent_database(data):
    assert run("demo", "--data", data).returncode == 0
    target = os.path.join(os.path.dirname(data), "backup.db")
    b = run("backup", "--data", data, "--to", target)
    assert b.returncode == 0, b.stderr
    restored = os.path.join(os.path.dirname(data), "restored")
    os.makedirs(restored)
    os.rename(target, os.path.join(restored, "tandem.db"))
    check = run("check", "--data", restored)
    assert check.returncode == 0, check.stdout
    db = sqlite3.connect(os.path.join(restored, "tandem.db"))
    assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] >= 200
    db.close()


def test_user_add_refuses_a_duplicate_and_a_bad_role(data):
    ok = run("user", "add", "--data", data, "--email", "ops@example.my", "--password",
             "long-enough", "--role", "ops")
    assert ok.returncode == 0, ok.stderr
    again = run("user", "add", "--data", data, "--email", "OPS@example.my", "--password",
                "long-enough", "--role", "ops")
    assert again.returncode != 0 and "email_taken" in again.stderr
    bad = run("user", "add", "--data", data, "--email", "x@example.my", "--password",
              "long-enough", "--role", "root")
    assert bad.returncode != 0


def test_settings_come_from_flags_then_environment_then_config_file(data):
    os.makedirs(data, exist_ok=True)
    config = os.path.join(data, "tandem.conf")
    with open(config, "w") as f:
        f.write("# threads from the file\nthreads = 3\n")

    def threads_used(*extra, env_threads=None):
        env = dict(os.environ)
        env.pop("TANDEM_THREADS", None)
        if env_threads:
            env["TANDEM_THREADS"] = env_threads
        proc, port, err = start(data, "--config", config, *extra, env=env)
        try:
            status, _ = call(port, "GET", "/readyz")
            assert status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        m = re.search(r"and (\d+) worker threads", open(err).read())
        return int(m.group(1))

    assert threads_used() == 3
    assert threads_used(env_threads="5") == 5
    assert threads_used("--threads", "2", env_threads="5") == 2


def test_sigterm_lets_in_flight_requests_finish(data):
    assert run("demo", "--data", data).returncode == 0
    proc, port, err = start(data)
    status, page = call(port, "GET", "/api/v1/products?limit=50")
    assert status == 200
    skus = [v["sku"] for p in page["items"] for v in p["variants"] if v["available_online"] > 0]

    def buy(sku):
        try:
            s, cart = call(port, "POST", "/api/v1/carts")
            if s != 201:
                return ("refused", s)
            h = {"X-Cart-Token": cart["token"]}
            s, _ = call(port, "POST", f"/api/v1/carts/{cart['id']}/items",
                        {"sku": sku, "quantity": 1}, h)
            if s != 201:
                return ("refused", s)
            s, order = call(port, "POST", f"/api/v1/carts/{cart['id']}/checkout",
                            {"email": "late@example.my", "payment_method": "cash_on_delivery",
                             "address": {"name": "A", "line1": "1 Jalan", "city": "KL",
                                         "postcode": "50000", "country": "MY"}}, h)
            return ("order", order["number"]) if s == 201 else ("refused", s)
        except (ConnectionError, OSError, http.client.HTTPException) as e:
            return ("connection", type(e).__name__)

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        futures = [pool.submit(buy, skus[i % len(skus)]) for i in range(48)]
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        results = [f.result(timeout=60) for f in futures]
    assert proc.wait(timeout=30) == 0
    assert "stopping" in open(err).read()
    numbers = [r[1] for r in results if r[0] == "order"]
    assert all(r[0] != "refused" or r[1] < 500 for r in results), results
    # Every order that was confirmed before the stop is in the database after it.
    db = sqlite3.connect(os.path.join(data, "tandem.db"))
    stored = {row[0] for row in db.execute("SELECT number FROM orders")}
    db.close()
    assert set(numbers) <= stored
    assert run("check", "--data", data).returncode == 0
