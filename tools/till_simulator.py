#!/usr/bin/env python3
"""Till simulator for Tandem (issue 3, point 11): stores and tills selling offline, uploading late.

Plays N stores x M tills against a running Tandem server. Each till starts from the store's
snapshot (GET /api/v1/sync/locations/{id}/snapshot): the store's on-hand units are shared out
between its tills, and each till sells only from its own share of the shelf. A till records sales,
returns, receipts and adjustments offline, each with a client-generated id and the till's next
`seq`, then from time to time goes online and uploads what the server has not acknowledged, in
batches, with the faults of a bad shop Wi-Fi:

  drop       a batch is lost in transit (the server never sees it; the till sends it later)
  lost reply the server takes the batch but the answer is lost (the till sends it again later)
  retry      the same batch is sent again at once (the server must answer `duplicate`)
  cut        only the first part of a batch goes through, then the whole batch is sent again
  reorder    later batches go first and events are shuffled inside a batch (-> `pending`,
             applied once the gap is filled)
  offline    the till skips going online for a round (its backlog grows; uploads come late)

Meanwhile optional online shoppers buy through carts and checkout (delivery or pick-up at a
simulated store), and sometimes cancel, so online orders hold stock at the stores the tills sell
from: store sales then collide with online allocations and Tandem's stock-conflict policy runs.

When the time is up every till uploads all it has left (no faults), and the simulator verifies:

  * every answer lists one result per event, in order, with a status that fits exactly what the
    server has been sent (`applied`/`conflict` only for a first sending whose lower seqs have all
    reached the server, `duplicate` only for one sent before, `pending` exactly when a lower seq
    has not reached the server yet, never `rejected`);
  * exactly once: each simulated store's on_hand from GET /api/v1/inventory equals the sum of its
    tills' local shelves, SKU by SKU;
  * GET /api/v1/sync/status: no event pending, every till's last_seq is its last event, as many
    events applied as the tills made, no open conflict, the store not stale;
  * no oversell: reserved + allocated <= max(0, on_hand) at every simulated level;
  * every order line left unfulfillable by a conflict has an open contact task.

It reports the upload throughput (distinct till events applied per second of the run, and of the
final flush alone), the conflicts seen, request latencies and counts of every fault injected.
Exit status: 0 when the verification passed, 1 when it failed, 2 on a usage or set-up error.

The event streams, batching and faults of each till and the choices of each shopper come from
random generators seeded by --seed, so a run is deterministic apart from server timing (how many
rounds fit into the duration, and which online orders win the stock). With an admin login the
simulator creates its own stores, SKUs and stock (names carry a run tag, so it can run again on
the same server); with an ops login (or --use-existing) it plays the existing stores that sell in
store and the SKUs they stock.

Python 3 standard library only. Example:
  tools/till_simulator.py --url http://127.0.0.1:8080 --email admin@tandem.local \\
      --password tandem-admin --stores 4 --tills-per-store 3 --duration-seconds 20 --seed 7 \\
      --report-json /tmp/till-sim.json
"""

import argparse
import collections
import datetime
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
import uuid

STATUSES = ("applied", "conflict", "duplicate", "pending", "rejected")
REQUEST_TIMEOUT = 60.0
SIM_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
ADDRESS = {"name": "Sim Shopper", "line1": "1 Jalan Simulasi", "city": "Kuala Lumpur",
           "postcode": "50450", "country": "MY", "phone": "+60 12-000 0000"}


class SetupError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One keep-alive connection (one per thread). request() -> (status, headers, body) or raises
    OSError/http.client.HTTPException on a transport failure (the connection is then reset)."""

    def __init__(self, url, token=None):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or not u.hostname:
            raise SetupError(f"--url must be http://HOST:PORT, got {url!r}")
        self.host = u.hostname
        self.port = u.port or 80
        self.token = token
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None):
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            h["Content-Type"] = "application/json"
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        if headers:
            h.update(headers)
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, resp, parsed

    def call(self, method, path, body=None, expect=(200,), headers=None, token=None, tries=20):
        """request() for set-up and verification: retries transport errors and 503, and raises
        SetupError on any status not in `expect`."""
        for attempt in range(tries):
            try:
                status, resp, parsed = self.request(method, path, body, headers, token)
            except (OSError, http.client.HTTPException) as e:
                if attempt + 1 == tries:
                    raise SetupError(f"{method} {path}: {type(e).__name__}: {e}") from e
                time.sleep(min(1.0, 0.05 * (attempt + 1)))
                continue
            if status == 503 and attempt + 1 < tries:
                time.sleep(float(resp.getheader("Retry-After", "1") or 1))
                continue
            if status not in expect:
                raise SetupError(f"{method} {path}: HTTP {status}: {str(parsed)[:300]}")
            return parsed
        raise SetupError(f"{method} {path}: no answer")


def paged(client, path, limit=100):
    """Items of a list endpoint that pages with `cursor`/`next_cursor`."""
    sep = "&" if "?" in path else "?"
    cursor = None
    items = []
    for _ in range(100000):
        url = f"{path}{sep}limit={limit}"
        if cursor is not None:
            url += "&cursor=" + urllib.parse.quote(str(cursor), safe="")
        body = client.call("GET", url)
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if cursor is None or not body["items"]:
            return items
    raise SetupError(f"GET {path}: too many pages")


# ---------------------------------------------------------------------------------------------
# Statistics shared by the threads


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.statuses = collections.Counter()
        self.event_types = collections.Counter()
        self.latencies = []  # seconds, till uploads that got an answer
        self.failures = []  # verification failures (strings)
        self.http_errors = collections.Counter()

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def fail(self, text):
        with self.lock:
            if len(self.failures) < 200:
                self.failures.append(text)
            self.counts["failures"] += 1


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


# ---------------------------------------------------------------------------------------------
# Tills


class Event:
    __slots__ = ("id", "seq", "type", "occurred_at", "lines", "reached", "acked", "applied",
                 "status")

    def __init__(self, eid, seq, etype, occurred_at, lines):
        self.id = eid
        self.seq = seq
        self.type = etype
        self.occurred_at = occurred_at
        self.lines = lines  # [(sku, quantity)]
        self.reached = False  # False | "maybe" | True: has a request with it reached the server
        self.acked = False  # the till got an answer for it (it stops sending it)
        self.applied = False  # an answer said applied/conflict/duplicate
        self.status = None  # first applied/conflict answer

    def json(self):
        return {"id": self.id, "seq": self.seq, "type": self.type,
                "occurred_at": self.occurred_at,
                "lines": [{"sku": s, "quantity": q} for s, q in self.lines]}

    def delta(self):
        """Change of on_hand per SKU."""
        out = collections.Counter()
        for sku, q in self.lines:
            out[sku] += -q if self.type == "sale" else q
        return out


class Till:
    def __init__(self, sim, store, index, shelf):
        self.sim = sim
        self.store = store  # dict(id, code, name)
        self.index = index
        self.till_id = f"T{index + 1}"
        self.rng = random.Random(f"tandem-till-sim/{sim.args.seed}/{store['index']}/{index}")
        self.shelf = dict(shelf)  # sku -> units on this till's part of the shelf
        self.start_shelf = dict(shelf)
        self.skus = sorted(shelf)
        self.events = []  # by seq - 1
        self.clock_ms = int(SIM_EPOCH.timestamp() * 1000) + self.rng.randrange(3600_000)
        self.client = Client(sim.args.url, sim.token)
        self.path = f"/api/v1/sync/locations/{store['id']}/events"
        self.rounds = 0

    # -- offline: the till records what happens at the counter --

    def _occurred_at(self):
        self.clock_ms += self.rng.randint(1_000, 120_000)
        t = datetime.datetime.fromtimestamp(self.clock_ms / 1000, datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def _new_event(self, etype, lines):
        seq = len(self.events) + 1
        eid = f"{self.sim.tag}-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        e = Event(eid, seq, etype, self._occurred_at(), lines)
        for sku, q in e.delta().items():
            self.shelf[sku] = self.shelf.get(sku, 0) + q
        self.events.append(e)
        self.sim.stats.add("events_made")
        with self.sim.stats.lock:
            self.sim.stats.event_types[etype] += 1
        return e

    def make_event(self):
        rng = self.rng
        if not self.skus:
            return None
        r = rng.random()
        stocked = [s for s in self.skus if self.shelf.get(s, 0) > 0]
        if r < 0.70 and stocked:
            lines = []
            for sku in rng.sample(stocked, min(len(stocked), rng.choice((1, 1, 1, 2, 2, 3)))):
                lines.append((sku, rng.randint(1, min(3, self.shelf[sku]))))
            return self._new_event("sale", lines)
        if r < 0.80:
            return self._new_event("return", [(rng.choice(self.skus), rng.randint(1, 2))])
        if r < 0.90 and stocked:
            sku = rng.choice(stocked)
            if rng.random() < 0.6:
                q = -rng.randint(1, min(2, self.shelf[sku]))  # damaged, lost
            else:
                q = rng.randint(1, 2)  # found
            return self._new_event("adjustment", [(sku, q)])
        return self._new_event("receipt", [(rng.choice(self.skus), rng.randint(5, 20))])

    # -- online: uploads --

    def unacked(self):
        return [e for e in self.events if not e.acked]

    def upload(self, batch, apply_ack=True, phase="run"):
        """Sends one batch (list of Event); validates the answer. Returns True when an answer came.
        A transport error or 503 leaves the events un-acked (sent again later)."""
        stats = self.sim.stats
        body = {"till_id": self.till_id, "events": [e.json() for e in batch]}
        before = {e.id: (e.reached, e.applied) for e in batch}
        t0 = time.monotonic()
        try:
            status, resp, parsed = self.client.request("POST", self.path, body)
        except (OSError, http.client.HTTPException) as ex:
            stats.add("upload_transport_errors")
            with stats.lock:
                stats.http_errors[type(ex).__name__] += 1
            for e in batch:
                if e.reached is not True:
                    e.reached = "maybe"
            time.sleep(0.05)
            return False
        elapsed = time.monotonic() - t0
        if status == 503:
            stats.add("upload_503")
            for e in batch:
                if e.reached is not True:
                    e.reached = "maybe"
            time.sleep(float(resp.getheader("Retry-After", "1") or 1) * self.rng.random())
            return False
        if status != 200:
            stats.fail(f"{self.store['code']}/{self.till_id}: upload answered {status}: "
                       f"{str(parsed)[:300]}")
            return False
        with stats.lock:
            stats.latencies.append(elapsed)
            stats.counts["uploads"] += 1
            stats.counts["events_sent"] += len(batch)
            if phase == "flush":
                stats.counts["flush_uploads"] += 1
        for e in batch:
            e.reached = True
        self._check_answer(batch, before, parsed)
        if apply_ack:
            for e in batch:
                e.acked = True
        return True

    def _check_answer(self, batch, before, parsed):
        stats = self.sim.stats
        where = f"{self.store['code']}/{self.till_id}"
        results = parsed.get("results") if isinstance(parsed, dict) else None
        if not isinstance(results, list) or len(results) != len(batch):
            stats.fail(f"{where}: answer does not list one result per event: {str(parsed)[:300]}")
            return
        # After this request, which seqs have (certainly / maybe) reached the server?
        reached = [e.reached for e in self.events]  # batch members are True now
        for e, r in zip(batch, results):
            st = r.get("status")
            with stats.lock:
                stats.statuses[st] += 1
            if r.get("id") != e.id:
                stats.fail(f"{where}: result for {r.get('id')!r} where {e.id!r} was sent")
                continue
            if st not in STATUSES:
                stats.fail(f"{where}: event seq {e.seq}: unknown status {st!r}")
                continue
            if st == "rejected":
                stats.fail(f"{where}: event seq {e.seq} rejected: {r.get('detail')}")
                continue
            was_reached, was_applied = before[e.id]
            # Must the server have applied it by now? All of seq 1..e.seq reached it.
            lower = reached[: e.seq]
            if any(x is False for x in lower):
                must_apply = False
            elif all(x is True for x in lower):
                must_apply = True
            else:
                must_apply = None  # a lower seq may or may not have reached it
            is_applied = st in ("applied", "conflict", "duplicate")
            if must_apply is not None and is_applied != must_apply:
                stats.fail(f"{where}: event seq {e.seq} answered {st!r} but every lower seq "
                           f"{'has' if must_apply else 'has not'} reached the server")
            if was_applied and st != "duplicate":
                stats.fail(f"{where}: event seq {e.seq} was applied before, now {st!r}")
            if was_reached is True and st in ("applied", "conflict"):
                stats.fail(f"{where}: event seq {e.seq} sent before, applied again ({st!r})")
            if was_reached is False and st == "duplicate":
                stats.fail(f"{where}: event seq {e.seq} never sent before, answered duplicate")
            if is_applied:
                e.applied = True
            if st in ("applied", "conflict") and e.status is None:
                e.status = st
                if st == "conflict":
                    stats.add("conflict_events")

    def online_round(self):
        """Goes online once: uploads the backlog in batches with faults."""
        a = self.sim.args
        rng = self.rng
        stats = self.sim.stats
        backlog = self.unacked()
        if not backlog:
            # An empty upload: the till says it is alive.
            if rng.random() < 0.3:
                self.upload([])
            return
        batches = []
        i = 0
        while i < len(backlog):
            n = rng.randint(1, a.batch_max)
            batches.append(backlog[i:i + n])
            i += n
        if len(batches) > 1 and rng.random() < a.reorder_rate:
            rng.shuffle(batches)
            stats.add("batches_reordered")
        for batch in batches:
            if time.monotonic() > self.sim.deadline:
                return
            batch = list(batch)
            if len(batch) > 1 and rng.random() < a.reorder_rate:
                rng.shuffle(batch)
                stats.add("batches_shuffled")
            if rng.random() < a.drop_rate:
                stats.add("batches_dropped")  # lost in transit: the server never sees it
                continue
            if len(batch) > 1 and rng.random() < a.cut_rate:
                stats.add("batches_cut")
                cut = rng.randint(1, len(batch) - 1)
                self.upload(batch[:cut], apply_ack=False)
            lost_reply = rng.random() < a.lost_reply_rate
            if lost_reply:
                stats.add("replies_lost")
            if not self.upload(batch, apply_ack=not lost_reply):
                continue
            if rng.random() < a.duplicate_rate:
                stats.add("batches_duplicated")
                self.upload(batch)

    def run(self):
        a = self.sim.args
        rng = self.rng
        try:
            while time.monotonic() < self.sim.deadline and not self.sim.stop.is_set():
                self.rounds += 1
                for _ in range(rng.randint(1, 2 * a.events_per_round)):
                    self.make_event()
                if rng.random() < a.offline_rate:
                    self.sim.stats.add("rounds_offline")
                    continue
                self.online_round()
                if a.pause_ms:
                    time.sleep(a.pause_ms / 1000.0 * rng.random())
        except Exception as ex:  # noqa: BLE001 - reported as a failure
            self.sim.stats.fail(f"{self.store['code']}/{self.till_id}: crashed: "
                                f"{type(ex).__name__}: {ex}")

    def flush(self, limit_s):
        """Uploads everything left, in seq order, no faults. True when all is applied."""
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            left = self.unacked()
            if not left:
                break
            batch = left[: self.sim.args.flush_batch]
            self.upload(batch, phase="flush")
        # Anything answered `pending` is acked but not applied: send the lot once more.
        if all(e.applied for e in self.events):
            return True
        for e in self.events:
            if not e.applied:
                e.acked = False
        while time.monotonic() < end:
            left = [e for e in self.events if not e.applied]
            if not left:
                return True
            self.upload(left[: self.sim.args.flush_batch], phase="flush")
        return all(e.applied for e in self.events)


# ---------------------------------------------------------------------------------------------
# Online shoppers


class Shopper:
    def __init__(self, sim, index):
        self.sim = sim
        self.index = index
        self.rng = random.Random(f"tandem-till-sim/{sim.args.seed}/shopper/{index}")
        self.client = Client(sim.args.url)
        self.orders = []  # (order id, access token)

    def run(self):
        sim = self.sim
        stats = sim.stats
        rng = self.rng
        n = 0
        try:
            while time.monotonic() < sim.deadline and not sim.stop.is_set():
                n += 1
                sku = rng.choice(sim.skus)
                qty = rng.randint(1, 2)
                pickup = rng.random() < 0.25 and sim.stores
                store = rng.choice(sim.stores) if pickup else None
                cancel = rng.random() < 0.1
                self.shop(sku, qty, store, cancel, n)
                if sim.args.shopper_pause_ms:
                    time.sleep(sim.args.shopper_pause_ms / 1000.0 * rng.random())
        except Exception as ex:  # noqa: BLE001
            stats.fail(f"shopper {self.index}: crashed: {type(ex).__name__}: {ex}")

    def shop(self, sku, qty, store, cancel, n):
        stats = self.sim.stats
        c = self.client
        try:
            status, _, cart = c.request("POST", "/api/v1/carts")
            if status != 201:
                stats.add(f"shopper_cart_{status}")
                return
            h = {"X-Cart-Token": cart["token"]}
            base = f"/api/v1/carts/{cart['id']}"
            status, _, body = c.request("POST", base + "/items", {"sku": sku, "quantity": qty},
                                        headers=h)
            if status != 201:
                stats.add("shopper_out_of_stock" if status == 409 else f"shopper_add_{status}")
                return
            if store is not None:
                status, _, body = c.request("PUT", base + "/fulfillment",
                                            {"method": "pickup", "location_id": store["id"]},
                                            headers=h)
                if status != 200:
                    store = None
            if store is None:
                status, _, body = c.request("PUT", base + "/fulfillment",
                                            {"method": "delivery", "address": ADDRESS,
                                             "service": "standard"}, headers=h)
                if status != 200:
                    stats.add(f"shopper_fulfillment_{status}")
                    return
            email = f"sim-{self.sim.tag}-{self.index}-{n}@example.com"
            h2 = dict(h)
            h2["Idempotency-Key"] = f"{self.sim.tag}-{self.index}-{n}"
            status, _, order = c.request("POST", base + "/checkout",
                                         {"payment_method": "cash_on_delivery", "email": email,
                                          "name": f"Sim Shopper {self.index}-{n}"}, headers=h2)
            if status != 201:
                stats.add(f"shopper_checkout_{status}")
                return
            stats.add("orders_pickup" if store is not None else "orders_delivery")
            self.orders.append(order["id"])
            if cancel:
                q = urllib.parse.quote(order.get("access_token", ""), safe="")
                status, _, _ = c.request("POST", f"/api/v1/orders/{order['id']}/cancel?token={q}",
                                         {})
                stats.add("orders_cancelled" if status == 200 else f"shopper_cancel_{status}")
        except (OSError, http.client.HTTPException) as ex:
            stats.add("shopper_transport_errors")
            with stats.lock:
                stats.http_errors[type(ex).__name__] += 1


# ---------------------------------------------------------------------------------------------
# The simulation


class Simulation:
    def __init__(self, args):
        self.args = args
        self.stats = Stats()
        self.stop = threading.Event()
        self.tag = args.tag or f"{args.seed}x{int(time.time() * 1000) % 10**9:09d}"
        self.token = None
        self.role = None
        self.stores = []  # dict(index, id, code, name)
        self.skus = []
        self.tills = []
        self.shoppers = []
        self.deadline = 0.0
        self.initial_status = {}

    def log(self, text):
        if not self.args.quiet:
            print(f"[till-sim] {text}", file=sys.stderr, flush=True)

    # -- set-up --

    def login(self):
        c = Client(self.args.url)
        body = c.call("POST", "/api/v1/auth/login",
                      {"email": self.args.email, "password": self.args.password})
        self.token = body["token"]
        self.role = body.get("role")
        if self.role not in ("admin", "ops"):
            raise SetupError(f"log in as admin or ops, not {self.role}")

    def create_world(self, c):
        a = self.args
        rng = random.Random(f"tandem-till-sim/{a.seed}/world")
        for i in range(a.stores):
            body = {"code": f"SIM{self.tag}S{i + 1}", "name": f"Sim store {i + 1} ({self.tag})",
                    "kind": "store", "address": f"{i + 1} Jalan Till", "ships_orders": True,
                    "pickup": True, "sells_in_store": True,
                    "safety_stock_default": a.safety_stock}
            loc = c.call("POST", "/api/v1/locations", body, expect=(201,))
            self.stores.append({"index": i, "id": loc["id"], "code": loc["code"],
                                "name": loc["name"]})
        dc = None
        if a.warehouse:
            body = {"code": f"SIM{self.tag}DC", "name": f"Sim DC ({self.tag})",
                    "kind": "distribution_centre", "address": "1 Jalan Gudang",
                    "ships_orders": True, "pickup": False, "sells_in_store": False,
                    "safety_stock_default": 0}
            dc = c.call("POST", "/api/v1/locations", body, expect=(201,))["id"]
        skus = [f"SIM-{self.tag}-{k + 1:04d}" for k in range(a.skus)]
        for p in range(0, len(skus), 100):
            part = skus[p:p + 100]
            body = {"name": f"Sim goods {p // 100 + 1} ({self.tag})", "description": "simulated",
                    "category": "simulation",
                    "variants": [{"sku": s, "price": {"amount": 1000 + 10 * k, "currency": "MYR"},
                                  "options": {"size": "M"}, "image_url": f"/img/{s}.jpg"}
                                 for k, s in enumerate(part)]}
            c.call("POST", "/api/v1/products", body, expect=(201,))
        self.skus = skus
        for store in self.stores:
            for sku in skus:
                qty = rng.randint(a.stock_min, a.stock_max)
                if qty:
                    c.call("POST", "/api/v1/inventory/adjustments",
                           {"sku": sku, "location_id": store["id"], "delta": qty,
                            "reason": "receipt", "note": f"till simulator {self.tag}"},
                           expect=(201,))
        if dc is not None:
            for sku in skus:
                qty = rng.randint(0, a.warehouse_stock)
                if qty:
                    c.call("POST", "/api/v1/inventory/adjustments",
                           {"sku": sku, "location_id": dc, "delta": qty, "reason": "receipt",
                            "note": f"till simulator {self.tag}"}, expect=(201,))
        self.dc = dc

    def use_existing(self, c):
        locs = paged(c, "/api/v1/locations")
        stores = sorted((l for l in locs if l.get("sells_in_store")), key=lambda l: l["id"])
        if len(stores) < self.args.stores:
            raise SetupError(f"{len(stores)} store(s) sell in store; --stores {self.args.stores}")
        for i, l in enumerate(stores[: self.args.stores]):
            self.stores.append({"index": i, "id": l["id"], "code": l["code"], "name": l["name"]})
        self.dc = None

    def setup(self):
        self.login()
        c = Client(self.args.url, self.token)
        self.created = self.role == "admin" and not self.args.use_existing
        if self.created:
            self.create_world(c)
        else:
            self.use_existing(c)
        # Snapshots: each store's shelf, shared out between its tills.
        skus = set(self.skus)
        for store in self.stores:
            snap = c.call("GET", f"/api/v1/sync/locations/{store['id']}/snapshot")
            on_hand = {lv["sku"]: lv["on_hand"] for lv in snap["levels"]
                       if not self.skus or lv["sku"] in skus}
            if not self.skus:
                store["skus"] = sorted(on_hand)
            store["start_on_hand"] = on_hand
            m = self.args.tills_per_store
            for j in range(m):
                share = {}
                for sku, units in on_hand.items():
                    base = max(0, units) // m + (1 if j < max(0, units) % m else 0)
                    if j == 0:
                        base += units - max(0, units)  # a negative on_hand stays with till 1
                    share[sku] = base
                self.tills.append(Till(self, store, j, share))
        if not self.skus:
            self.skus = sorted({s for st in self.stores for s in st["skus"]})
        if not self.skus:
            raise SetupError("the simulated stores stock no SKU")
        status = c.call("GET", "/api/v1/sync/status")
        self.initial_status = {it["location_id"]: it for it in status["items"]}
        if self.created is False:
            # Existing stores may have tills of their own: play fresh till ids there.
            for t in self.tills:
                t.till_id = f"SIM{self.tag}T{t.index + 1}"
        self.log(f"run {self.tag}: {len(self.stores)} store(s) x {self.args.tills_per_store} "
                 f"till(s), {len(self.skus)} SKU(s), {self.args.shoppers} shopper(s)")

    # -- run --

    def run(self):
        a = self.args
        stats = self.stats
        t_start = time.monotonic()
        self.deadline = t_start + a.duration_seconds
        threads = [threading.Thread(target=t.run, name=f"till-{t.store['code']}-{t.till_id}",
                                    daemon=True) for t in self.tills]
        self.shoppers = [Shopper(self, i) for i in range(a.shoppers)]
        threads += [threading.Thread(target=s.run, name=f"shopper-{i}", daemon=True)
                    for i, s in enumerate(self.shoppers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=max(0.1, self.deadline + 120 - time.monotonic()))
        if any(th.is_alive() for th in threads):
            self.stop.set()
            stats.fail("a till or shopper thread did not stop within 120 s of the deadline")
        t_run = time.monotonic()
        applied_before_flush = sum(1 for t in self.tills for e in t.events if e.applied)

        # Final flush: every till uploads all it has left, concurrently, no faults.
        self.log(f"flushing {sum(len(t.unacked()) for t in self.tills)} un-acknowledged event(s)")
        self.deadline = float("inf")
        done = {}

        def flush(t):
            done[id(t)] = t.flush(a.flush_limit_seconds)
        threads = [threading.Thread(target=flush, args=(t,), daemon=True) for t in self.tills]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=a.flush_limit_seconds + 60)
        t_end = time.monotonic()
        for t in self.tills:
            if not done.get(id(t)):
                stats.fail(f"{t.store['code']}/{t.till_id}: not every event applied after the "
                           f"final flush ({sum(1 for e in t.events if not e.applied)} left)")
        self.timing = {"run_seconds": t_run - t_start, "flush_seconds": t_end - t_run,
                       "total_seconds": t_end - t_start,
                       "applied_before_flush": applied_before_flush}

    # -- verification --

    def verify(self):
        stats = self.stats
        c = Client(self.args.url, self.token)
        # 1. Exactly once: on_hand = the tills' shelves.
        mismatches = 0
        levels_by_store = {}
        for store in self.stores:
            expected = collections.Counter()
            for t in self.tills:
                if t.store is store:
                    for sku, units in t.shelf.items():
                        expected[sku] += units
            got = {}
            for lv in paged(c, f"/api/v1/inventory?location_id={store['id']}"):
                got[lv["sku"]] = lv
            levels_by_store[store["id"]] = got
            for sku in sorted(set(expected) | {s for s in got if s in set(self.skus)}):
                have = got.get(sku, {}).get("on_hand", 0)
                if have != expected.get(sku, 0):
                    mismatches += 1
                    stats.fail(f"{store['code']} {sku}: on_hand {have}, the tills' shelves hold "
                               f"{expected.get(sku, 0)}")
        # 2. No oversell at the simulated stores.
        oversold = 0
        for store in self.stores:
            for sku, lv in levels_by_store[store["id"]].items():
                if lv["reserved"] + lv["allocated"] > max(0, lv["on_hand"]):
                    oversold += 1
                    stats.fail(f"{store['code']} {sku}: reserved {lv['reserved']} + allocated "
                               f"{lv['allocated']} > on_hand {lv['on_hand']}")
        # 3. Sync status.
        status = {it["location_id"]: it for it in c.call("GET", "/api/v1/sync/status")["items"]}
        conflicts_server = 0
        applied_server = 0
        for store in self.stores:
            st = status.get(store["id"])
            if st is None:
                stats.fail(f"{store['code']}: missing from GET /api/v1/sync/status")
                continue
            before = self.initial_status.get(store["id"], {})
            mine = [t for t in self.tills if t.store is store]
            made = sum(len(t.events) for t in mine)
            applied = st["events_applied"] - before.get("events_applied", 0)
            applied_server += applied
            conflicts_server += st["conflicts"] - before.get("conflicts", 0)
            if applied != made:
                stats.fail(f"{store['code']}: {applied} event(s) applied, the tills made {made}")
            if st["events_pending"] != before.get("events_pending", 0):
                stats.fail(f"{store['code']}: {st['events_pending']} event(s) still pending")
            if st["conflicts_open"]:
                stats.fail(f"{store['code']}: {st['conflicts_open']} conflict(s) open")
            if st["stale"]:
                stats.fail(f"{store['code']}: stale right after its tills uploaded")
            seqs = {x["till_id"]: x["last_seq"] for x in st["tills"]}
            for t in mine:
                if t.events and seqs.get(t.till_id) != len(t.events):
                    stats.fail(f"{store['code']}/{t.till_id}: last_seq {seqs.get(t.till_id)}, "
                               f"the till made {len(t.events)} event(s)")
        # 4. Unfulfillable lines have an open contact task.
        tasks = paged(c, "/api/v1/contact-tasks?status=open")
        task_orders = {t["order_id"] for t in tasks}
        order_ids = [o for s in self.shoppers for o in s.orders]
        unfulfillable_units = 0
        reallocated_orders = 0
        for oid in order_ids[: self.args.orders_checked]:
            o = c.call("GET", f"/api/v1/orders/{oid}")
            u = sum(l.get("unfulfillable", 0) for l in o["lines"])
            unfulfillable_units += u
            if u and oid not in task_orders:
                stats.fail(f"order {o['number']}: {u} unit(s) unfulfillable, no open contact task")
            if any("re-allocated" in e.get("note", "") for e in o["timeline"]):
                reallocated_orders += 1
        # 5. Conflicts the policy recorded at the simulated stores.
        conflict_units = collections.Counter()
        for store in self.stores:
            for cf in c.call("GET", f"/api/v1/conflicts?location_id={store['id']}&limit=100")[
                    "items"]:
                if cf["reference"].startswith("till "):
                    conflict_units["shortfall"] += cf["shortfall"]
                    conflict_units["holds_released"] += cf["holds_released"]
                    conflict_units["units_reallocated"] += cf["units_reallocated"]
                    conflict_units["units_unfulfillable"] += cf["units_unfulfillable"]
                    if not cf["resolved"]:
                        stats.fail(f"conflict {cf['id']} not resolved")
        return {"on_hand_mismatches": mismatches, "oversold_levels": oversold,
                "events_applied_server": applied_server, "conflicts_server": conflicts_server,
                "orders_checked": min(len(order_ids), self.args.orders_checked),
                "orders_with_reallocation": reallocated_orders,
                "unfulfillable_units_in_orders": unfulfillable_units,
                "newest_conflicts_sample": dict(conflict_units)}

    def report(self, verification):
        s = self.stats
        made = sum(len(t.events) for t in self.tills)
        applied = sum(1 for t in self.tills for e in t.events if e.applied)
        tm = self.timing
        flush_applied = applied - tm["applied_before_flush"]
        lat = s.latencies
        return {
            "passed": not s.failures and verification.get("on_hand_mismatches", 1) == 0,
            "failures": s.failures,
            "url": self.args.url,
            "run_tag": self.tag,
            "config": {k: v for k, v in vars(self.args).items() if k != "password"},
            "stores": [{"id": st["id"], "code": st["code"]} for st in self.stores],
            "skus": len(self.skus),
            "tills": len(self.tills),
            "events_made": made,
            "events_applied": applied,
            "event_types": dict(s.event_types),
            "statuses": dict(s.statuses),
            "conflicts_seen": s.counts["conflict_events"],
            "faults": {k: s.counts[k] for k in ("batches_dropped", "replies_lost",
                                                "batches_duplicated", "batches_cut",
                                                "batches_reordered", "batches_shuffled",
                                                "rounds_offline", "upload_transport_errors",
                                                "upload_503")},
            "uploads": s.counts["uploads"],
            "flush_uploads": s.counts["flush_uploads"],
            "events_sent": s.counts["events_sent"],
            "online": {k: v for k, v in s.counts.items() if k.startswith(("orders_", "shopper_"))},
            "timing": tm,
            "throughput": {
                "events_applied_per_second": round(applied / tm["total_seconds"], 1)
                if tm["total_seconds"] else None,
                "events_applied_per_second_during_run": round(
                    tm["applied_before_flush"] / tm["run_seconds"], 1)
                if tm["run_seconds"] else None,
                "flush_events_applied_per_second": round(flush_applied / tm["flush_seconds"], 1)
                if tm["flush_seconds"] > 0 and flush_applied else None,
                "events_sent_per_second": round(s.counts["events_sent"] / tm["total_seconds"], 1)
                if tm["total_seconds"] else None,
            },
            "upload_latency_ms": {
                "p50": round(1000 * percentile(lat, 50), 1) if lat else None,
                "p95": round(1000 * percentile(lat, 95), 1) if lat else None,
                "p99": round(1000 * percentile(lat, 99), 1) if lat else None,
                "max": round(1000 * max(lat), 1) if lat else None,
            },
            "http_errors": dict(s.http_errors),
            "verification": verification,
        }


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="till_simulator.py",
        description="Plays stores and tills selling offline and uploading late (with drops, "
                    "retries, duplicates and reordering) against a Tandem server, with optional "
                    "online shoppers; then verifies exactly-once and reports throughput.",
        epilog="Exit status: 0 verification passed, 1 failed, 2 usage or set-up error.")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the server (http://HOST:PORT)")
    p.add_argument("--email", required=True, help="admin or ops login")
    p.add_argument("--password", required=True)
    p.add_argument("--stores", type=int, default=3, help="stores to play (default 3)")
    p.add_argument("--tills-per-store", type=int, default=2, help="tills per store (default 2)")
    p.add_argument("--skus", type=int, default=20,
                   help="SKUs to create (admin; default 20)")
    p.add_argument("--duration-seconds", type=float, default=10.0,
                   help="how long tills and shoppers play, 0.5-3600 (default 10); the final "
                        "flush comes after")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--report-json", help="write the report to this file")
    p.add_argument("--shoppers", type=int, default=2, help="online shopper threads (default 2)")
    p.add_argument("--events-per-round", type=int, default=15,
                   help="mean events a till records between two online rounds (default 15)")
    p.add_argument("--batch-max", type=int, default=40,
                   help="largest batch a till sends while playing, 1-500 (default 40)")
    p.add_argument("--flush-batch", type=int, default=500,
                   help="batch size of the final flush, 1-500 (default 500)")
    p.add_argument("--drop-rate", type=float, default=0.1, help="batch lost in transit")
    p.add_argument("--lost-reply-rate", type=float, default=0.1, help="answer lost")
    p.add_argument("--duplicate-rate", type=float, default=0.1, help="batch sent twice at once")
    p.add_argument("--cut-rate", type=float, default=0.05, help="batch cut, then re-sent")
    p.add_argument("--reorder-rate", type=float, default=0.2, help="batches/events reordered")
    p.add_argument("--offline-rate", type=float, default=0.3, help="a round without uploading")
    p.add_argument("--pause-ms", type=float, default=0.0,
                   help="a till rests up to this long between rounds (default 0: flat out)")
    p.add_argument("--shopper-pause-ms", type=float, default=20.0,
                   help="a shopper rests up to this long between orders (default 20)")
    p.add_argument("--stock-min", type=int, default=10, help="initial units per SKU and store")
    p.add_argument("--stock-max", type=int, default=40)
    p.add_argument("--safety-stock", type=int, default=1, help="stores' default safety stock")
    p.add_argument("--warehouse", action=argparse.BooleanOptionalAction, default=True,
                   help="also create a distribution centre that ships (default yes)")
    p.add_argument("--warehouse-stock", type=int, default=3,
                   help="at most this many units per SKU in the distribution centre")
    p.add_argument("--use-existing", action="store_true",
                   help="play existing stores and their SKUs even with an admin login")
    p.add_argument("--orders-checked", type=int, default=300,
                   help="online orders read back for unfulfillable/contact-task checks")
    p.add_argument("--flush-limit-seconds", type=float, default=300.0,
                   help="time limit of the final flush (default 300)")
    p.add_argument("--tag", help="run tag in names and event ids (default: seed and clock)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = p.parse_args(argv)
    if not 0.5 <= a.duration_seconds <= 3600:
        p.error("--duration-seconds must be 0.5-3600")
    if not 1 <= a.stores <= 200 or not 1 <= a.tills_per_store <= 50:
        p.error("--stores must be 1-200 and --tills-per-store 1-50")
    if not 1 <= a.skus <= 10000:
        p.error("--skus must be 1-10000")
    if not 1 <= a.batch_max <= 500 or not 1 <= a.flush_batch <= 500:
        p.error("--batch-max and --flush-batch must be 1-500 (the server's batch limit)")
    for name in ("drop_rate", "lost_reply_rate", "duplicate_rate", "cut_rate", "reorder_rate",
                 "offline_rate"):
        if not 0 <= getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be in [0, 1)")
    if a.events_per_round < 1 or a.shoppers < 0 or a.stock_min < 0 or a.stock_max < a.stock_min:
        p.error("bad --events-per-round, --shoppers or --stock-min/--stock-max")
    if a.tag is not None and not all(ch.isalnum() for ch in a.tag):
        p.error("--tag must be letters and digits")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sim = Simulation(args)
    try:
        sim.setup()
    except SetupError as e:
        print(f"till_simulator: set-up failed: {e}", file=sys.stderr)
        return 2
    sim.run()
    try:
        verification = sim.verify()
    except SetupError as e:
        sim.stats.fail(f"verification could not read the server: {e}")
        verification = {}
    report = sim.report(verification)
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.report_json:
        with open(args.report_json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    tp = report["throughput"]
    sim.log(f"{report['events_applied']}/{report['events_made']} event(s) applied in "
            f"{report['timing']['total_seconds']:.1f}s: {tp['events_applied_per_second']} "
            f"events/s overall, {tp['flush_events_applied_per_second']} events/s in the final "
            f"flush; {report['conflicts_seen']} conflict(s); statuses {report['statuses']}")
    print(json.dumps({"passed": report["passed"], "events_applied": report["events_applied"],
                      "events_applied_per_second": tp["events_applied_per_second"],
                      "flush_events_applied_per_second": tp["flush_events_applied_per_second"],
                      "conflicts_seen": report["conflicts_seen"],
                      "failures": report["failures"][:10]}))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
