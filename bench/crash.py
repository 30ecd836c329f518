#!/usr/bin/env python3
"""Crash under load (issue 4): kill -9 the server during the flash sale, restart it, verify.

Started by bench/crash.sh. Builds the release binary (unless --no-build / --bin), seeds a small
catalogue (5 hot SKUs with 100,000 units each), then --kills times (default 12): starts
`tandem serve` (durable defaults) if it is down, runs the flash sale with tandem-loadgen for
--cycle-seconds and sends SIGKILL to the server at a random moment inside the run; after each kill
`tandem check` must be clean on the data the dead server left. At the end the server is started
once more and: every order answered 201 in any cycle must exist with its SKU
(GET /api/v1/orders/{id}); per hot SKU, allocated >= orders answered 201 (an order committed just
before the kill may have lost its answer) and allocated + reserved <= on hand; after a graceful
stop `tandem check` must be clean again.

Bounded: each cycle lasts --cycle-seconds plus at most 30 s of drain; each cycle holds the machine
lock (flock(2) on /tmp/tandem-machine.lock) only while it runs. Writes bench/results/crash/.
Exit status 0 when every check passed, 1 otherwise, 2 on a set-up error.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the runner's helpers)
from bench import ADMIN_EMAIL, ADMIN_PASSWORD, REPO, Checks, Loadgen, Machine, SetupError, \
    Tandem, log, read_orders  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description="kill -9 Tandem under the flash sale, verify")
    ap.add_argument("--kills", type=int, default=12, help="how many kill -9 (at least 10)")
    ap.add_argument("--cycle-seconds", type=float, default=4.0,
                    help="flash-sale seconds per cycle; the kill falls inside")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--bin", help="tandem binary (default: build/release/src/tandem/tandem)")
    ap.add_argument("--loadgen", help="tandem-loadgen binary (default: build/release/bench/...)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--lock", default=bench.DEFAULT_LOCK, help="machine lock file")
    ap.add_argument("--no-lock", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "crash"))
    ap.add_argument("--seed", type=int, default=1212, help="random seed of the kill moments")
    ap.add_argument("--keep-data", action="store_true")
    args = ap.parse_args(argv)
    if args.cycle_seconds < 1.5:
        raise SetupError("--cycle-seconds must be at least 1.5")

    machine = Machine(None if args.no_lock else args.lock)
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        if name.startswith("cycle-"):
            os.unlink(os.path.join(args.out, name))
    started = time.monotonic()
    tandem_bin = args.bin or os.path.join(REPO, "build", "release", "src", "tandem", "tandem")
    loadgen_bin = args.loadgen or os.path.join(REPO, "build", "release", "bench", "tandem-loadgen")
    if not args.no_build and not args.bin and not args.loadgen:
        bench.build_release(machine)
    lg = Loadgen(loadgen_bin, machine, args.out)
    rng = random.Random(args.seed)
    checks = Checks()
    tmp_root = tempfile.mkdtemp(prefix="tandem-crash-")
    data_dir = os.path.join(tmp_root, "data")
    server = Tandem(tandem_bin, data_dir)
    cycles = []
    stock = {}
    try:
        server.cli("user", "add", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
                   "--role", "admin")
        server.start()
        p = dict(skus=100, variants=10, hot=5, hot_stock=100000, sellout_stock=10)
        manifest = lg.seed(server.port, os.path.join(args.out, "manifest.json"), p, 16)
        hot = manifest["hot_skus"]
        hot_file = os.path.join(args.out, "hot.txt")
        with open(hot_file, "w") as f:
            f.write("\n".join(hot) + "\n")

        for i in range(1, args.kills + 1):
            name = f"cycle-{i:02d}"
            with machine.lock(name):
                if not server.alive():
                    server.start()
                port = server.port
                lg_cmd = lg.cmd("run", port, "--scenario", "flash", "--skus", hot_file,
                                "--connections", args.connections, "--duration-seconds",
                                args.cycle_seconds, "--timeout-ms", 5000, "--drain-seconds", 6,
                                "--json", os.path.join(args.out, f"{name}.json"), "--orders",
                                os.path.join(args.out, f"{name}.orders"), "--quiet")
                proc = subprocess.Popen(lg_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
                kill_after = rng.uniform(0.5, args.cycle_seconds - 0.5)
                time.sleep(kill_after)
                server.kill9()
                try:
                    out, err = proc.communicate(timeout=args.cycle_seconds + 30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()
                    raise SetupError(f"loadgen did not finish in cycle {i}")
                if proc.returncode != 0:
                    raise SetupError(f"loadgen failed in cycle {i}: {err[-2000:]}")
                code, text = server.check()
            with open(os.path.join(args.out, f"{name}.json")) as f:
                rep = json.load(f)
            cycle = {"cycle": i, "killed_after_s": round(kill_after, 2),
                     "checkouts_201": rep["checkouts_ok"], "requests": rep["requests"],
                     "count_5xx": rep["count_5xx"], "errors": rep["errors"],
                     "check_exit": code, "check": text.splitlines()[-1] if text else ""}
            cycles.append(cycle)
            log(f"cycle {i}: killed after {kill_after:.2f} s, {rep['checkouts_ok']} orders "
                f"answered 201, errors {rep['errors']}, tandem check exit {code}")
            if code != 0:
                log(text)

        checks.add("at least 10 kill -9 under load", len(cycles) >= 10, f"{len(cycles)} kills")
        bad = [c["cycle"] for c in cycles if c["check_exit"] != 0]
        checks.add("tandem check clean after every kill", not bad, f"failed after {bad}" if bad
                   else f"{len(cycles)} checks")
        n5xx = sum(c["count_5xx"] for c in cycles)
        checks.add("no 5xx answer", n5xx == 0, f"{n5xx} 5xx")

        server.start()
        order_files = [os.path.join(args.out, f"cycle-{c['cycle']:02d}.orders") for c in cycles]
        v = lg.verify(server.port, order_files, 32)
        checks.add("every order answered 201 exists with its SKU", v["ok"],
                   f"{v['found']} of {v['orders']} found")
        answered = read_orders(*order_files)
        token = server.login()
        problems = []
        for sku in hot:
            s = server.stock(sku, token)
            stock[sku] = {"on_hand": s["on_hand"], "allocated": s["allocated"],
                          "reserved": s["reserved"], "answered_201": answered.get(sku, 0)}
            oversold = s["allocated"] + s["reserved"] > s["on_hand"]
            if s["allocated"] < answered.get(sku, 0) or oversold:
                problems.append(sku)
        checks.add("per SKU: orders answered 201 <= allocated, allocated + reserved <= on hand",
                   not problems, f"{problems}" if problems else f"{len(stock)} SKUs")
        rc = server.stop()
        checks.add("graceful stop at the end", rc == 0, f"exit code {rc}")
        code, text = server.check()
        checks.add("tandem check clean at the end", code == 0, text.splitlines()[-1] if text
                   else "")
    finally:
        if server.alive():
            server.kill9()
        if args.keep_data:
            log(f"data kept in {data_dir}")
        else:
            shutil.rmtree(tmp_root, ignore_errors=True)

    result = {"kills": len(cycles), "cycles": cycles, "orders_answered_201":
              sum(c["checkouts_201"] for c in cycles),
              # committed just before a kill, their answer lost: the client may retry with an
              # Idempotency-Key; never the other way round (answered but lost)
              "allocated_without_answer": sum(s["allocated"] - s["answered_201"]
                                              for s in stock.values()) if cycles else None,
              "stock": stock if cycles else None,
              "checks": checks.items, "ok": checks.ok(),
              "seconds": round(time.monotonic() - started, 1)}
    with open(os.path.join(args.out, "crash.json"), "w") as f:
        json.dump(result, f, indent=1)
    outcome = "all verified: ALL CHECKS PASSED" if result["ok"] else "SOME CHECKS FAILED"
    print(f"\n{len(cycles)} kills, {result['orders_answered_201']} orders answered 201, "
          f"{outcome} in {result['seconds']:.0f} s; details in {args.out}/crash.json")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    bench.exit_with(main)
