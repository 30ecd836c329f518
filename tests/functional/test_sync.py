"""Store sync over HTTP (issue 3): till uploads exactly once in per-till seq order, the stock
conflict policy (re-allocate, else unfulfillable + contact task + outbox notice), counts, the till
snapshot, sync status, safety stock, who may call what, bad input, and the till simulator."""

import json
import os
import subprocess
import sys

import pytest

from conftest import STAFF_PASSWORD, assert_problem, unique

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMULATOR = os.path.join(REPO, "tools", "till_simulator.py")
AT = "2026-11-23T09:30:00.000Z"


# ---- helpers ----

def make_store(server, ships=True, pickup=True, safety=0, kind="store", sells=None):
    """A location created as admin; returns its JSON (id, code, ...)."""
    body = {"code": unique("ST"), "name": f"Store {unique()}", "kind": kind,
            "address": "5 Jalan Kedai", "ships_orders": ships, "pickup": pickup,
            "sells_in_store": kind == "store" if sells is None else sells,
            "safety_stock_default": safety}
    return server.ok("POST", "/api/v1/locations", status=201, json=body,
                     token=server.token("admin"))


def clerk_of(server, store):
    """A clerk account bound to `store` (tandem user add --location CODE); returns its token."""
    email = f"{unique('clerk')}@staff.example.com"
    r = server.cli("user", "add", "--email", email, "--password", STAFF_PASSWORD, "--role",
                   "clerk", "--name", "Till clerk", "--location", store["code"])
    assert r.returncode == 0, f"user add clerk: {r.stdout}\n{r.stderr}"
    return server.login(email, STAFF_PASSWORD)


class Till:
    """One till of a store: numbers its events 1, 2, 3 ... and uploads them."""

    def __init__(self, server, store_id, token, till_id=None):
        self.server = server
        self.store_id = store_id
        self.token = token
        self.till_id = till_id or unique("till")
        self.seq = 0

    def event(self, kind, lines, seq=None, eid=None, at=AT):
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"id": eid or unique("ev"), "seq": seq, "type": kind, "occurred_at": at,
                "lines": [{"sku": s, "quantity": q} for s, q in lines]}

    def sale(self, sku, qty=1):
        return self.event("sale", [(sku, qty)])

    def post(self, events, token=None, till_id=None):
        return self.server.req("POST", f"/api/v1/sync/locations/{self.store_id}/events",
                               json={"till_id": till_id or self.till_id, "events": events},
                               token=token or self.token)

    def upload(self, events):
        """Uploads (must answer 200) -> the list of results, checked to match the events."""
        status, _, body = self.post(events)
        assert status == 200, body
        results = body["results"]
        assert [r["id"] for r in results] == [e["id"] for e in events], body
        for r in results:
            assert r["status"] in ("applied", "conflict", "duplicate", "pending", "rejected"), r
            assert ("detail" in r) == (r["status"] == "rejected"), r
        return results

    def statuses(self, events):
        return [r["status"] for r in self.upload(events)]


def level(server, sku, location_id):
    return server.levels(sku).get(location_id, {"on_hand": 0, "reserved": 0, "allocated": 0,
                                                "safety_stock": 0, "available": 0})


def all_movements(server, sku, location_id):
    items, cursor = [], None
    while True:
        path = f"/api/v1/inventory/movements?sku={sku}&location_id={location_id}&limit=100"
        if cursor:
            path += f"&cursor={cursor}"
        body = server.ok("GET", path, token=server.token("ops"))
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor or not body["items"]:
            return items


def sync_status(server, location_id, role="ops"):
    items = server.ok("GET", "/api/v1/sync/status", token=server.token(role))["items"]
    found = [it for it in items if it["location_id"] == location_id]
    assert len(found) == 1, items
    return found[0]


def conflicts_at(server, location_id):
    return server.ok("GET", f"/api/v1/conflicts?location_id={location_id}&limit=100",
                     token=server.token("ops"))["items"]


def timeline_notes(server, order_id):
    return [e["note"] for e in server.get_order(order_id)["timeline"]]


# ---- a. a store sells what online allocated there: the order moves to another store ----

def test_store_sale_of_allocated_units_reallocates_the_order(server):
    a, b = make_store(server), make_store(server)
    sku = server.seed({a["id"]: 3, b["id"]: 1})
    order = server.order(sku, 1)  # A has the most available: it is allocated there
    assert level(server, sku, a["id"])["allocated"] == 1
    assert level(server, sku, b["id"])["allocated"] == 0

    till = Till(server, a["id"], clerk_of(server, a))
    sale = till.sale(sku, 3)  # the store sells all three over the counter, offline
    results = till.upload([sale])
    assert [r["status"] for r in results] == ["conflict"]

    la, lb = level(server, sku, a["id"]), level(server, sku, b["id"])
    assert (la["on_hand"], la["allocated"]) == (0, 0)
    assert (lb["on_hand"], lb["allocated"], lb["available"]) == (1, 1, 0)

    staff_view = server.get_order(order["id"])
    assert staff_view["status"] == order["status"]  # nothing cancelled
    assert staff_view["lines"][0]["unfulfillable"] == 0
    moved = [e for e in staff_view["timeline"] if "re-allocated" in e["note"]]
    assert len(moved) == 1, staff_view["timeline"]
    assert a["name"] in moved[0]["note"] and b["name"] in moved[0]["note"], moved
    assert moved[0]["actor"] == "system"

    found = conflicts_at(server, a["id"])
    assert len(found) == 1, found
    c = found[0]
    assert (c["sku"], c["location_id"], c["shortfall"], c["resolved"]) == (sku, a["id"], 1, True)
    assert (c["holds_released"], c["units_reallocated"], c["units_unfulfillable"]) == (0, 1, 0)
    assert c["reference"] == f"till {till.till_id} event {sale['id']}"
    everywhere = server.ok("GET", "/api/v1/conflicts?limit=100", token=server.token("admin"))
    assert c["id"] in [x["id"] for x in everywhere["items"]]
    st = sync_status(server, a["id"])
    assert (st["conflicts"], st["conflicts_open"]) == (1, 0)
    # Sent again: no second sale, no second conflict.
    assert till.statuses([sale]) == ["duplicate"]
    assert level(server, sku, a["id"])["on_hand"] == 0
    assert len(conflicts_at(server, a["id"])) == 1
    server.assert_consistent()


def test_what_other_stores_can_serve_moves_and_only_the_rest_is_unfulfillable(server):
    a, b = make_store(server), make_store(server)
    sku = server.seed({a["id"]: 2})
    order = server.order(sku, 2)  # only A has it: both units allocated there
    server.receive(sku, b["id"], 1)
    till = Till(server, a["id"], server.token("ops"))
    assert till.statuses([till.sale(sku, 2)]) == ["conflict"]
    [c] = conflicts_at(server, a["id"])
    assert c["shortfall"] == 2 and c["resolved"] is True
    assert c["units_reallocated"] + c["units_unfulfillable"] == 2
    line = server.get_order(order["id"])["lines"][0]
    assert line["unfulfillable"] == c["units_unfulfillable"]
    assert level(server, sku, b["id"])["allocated"] == c["units_reallocated"]
    server.assert_consistent()
    assert (c["units_reallocated"], c["units_unfulfillable"]) == (1, 1)


# ---- b. no stock left anywhere: unfulfillable, contact task, outbox notice, not cancelled ----

def test_no_stock_anywhere_makes_the_line_unfulfillable_and_tells_the_customer(server):
    store = make_store(server)
    sku = server.seed({store["id"]: 2})
    email = f"{unique('buyer')}@example.com"
    order = server.order(sku, 2, email=email, name="Nurul Unlucky")
    assert level(server, sku, store["id"])["allocated"] == 2

    till = Till(server, store["id"], server.token("ops"))
    sale = till.sale(sku, 2)
    assert till.statuses([sale]) == ["conflict"]

    lv = level(server, sku, store["id"])
    assert (lv["on_hand"], lv["reserved"], lv["allocated"]) == (0, 0, 0)
    view = server.get_order(order["id"])
    assert view["status"] == order["status"] and view["status"] != "cancelled"
    assert view["lines"][0]["unfulfillable"] == 2
    assert any("cannot be fulfilled" in n for n in timeline_notes(server, order["id"]))

    [conflict] = conflicts_at(server, store["id"])
    assert (conflict["shortfall"], conflict["units_reallocated"],
            conflict["units_unfulfillable"], conflict["resolved"]) == (2, 0, 2, True)

    tasks = server.ok("GET", "/api/v1/contact-tasks?status=open&limit=100",
                      token=server.token("merchant"))["items"]
    mine = [t for t in tasks if t["order_id"] == order["id"]]
    assert len(mine) == 1, tasks
    assert (mine[0]["status"], mine[0]["reason"], mine[0]["conflict_id"]) == \
        ("open", "stock_conflict", conflict["id"])
    assert order["number"] in mine[0]["detail"] and email in mine[0]["detail"]

    outbox = server.ok("GET", "/api/v1/outbox?limit=100", token=server.token("ops"))["items"]
    notices = [m for m in outbox if m["reference"] == order["number"]]
    assert len(notices) == 1, outbox
    n = notices[0]
    assert (n["kind"], n["recipient"], n["status"]) == ("order_problem", email, "pending")
    assert order["number"] in n["subject"] and order["number"] in n["body"]
    assert "cancel" not in n["subject"].lower()
    server.assert_consistent()


# ---- c. exactly once: replays, cuts, reordering, re-used ids ----

def test_batch_replayed_cut_and_reordered_deducts_each_sale_once(server):
    store = make_store(server)
    s1, s2 = server.seed({store["id"]: 50}), server.seed({store["id"]: 50})
    till = Till(server, store["id"], clerk_of(server, store))
    batch = [till.sale(s1, 1), till.sale(s2, 2), till.event("sale", [(s1, 2), (s2, 1)]),
             till.event("return", [(s1, 1)]), till.sale(s1, 3), till.sale(s2, 1),
             till.event("adjustment", [(s2, -1)]), till.sale(s1, 1), till.event("receipt", [(s2, 4)]),
             till.sale(s2, 2)]
    lines = [(ln["sku"], ln["quantity"], e["type"]) for e in batch for ln in e["lines"]]

    def expected(sku):
        return 50 + sum(-q if t == "sale" else q for s, q, t in lines if s == sku)

    # Reordered: the second half arrives first and waits.
    assert till.statuses(batch[5:]) == ["pending"] * 5
    assert (level(server, s1, store["id"])["on_hand"], level(server, s2, store["id"])["on_hand"]) \
        == (50, 50)
    st = sync_status(server, store["id"])
    assert (st["events_applied"], st["events_pending"]) == (0, 5)
    # Sent again while it still waits: reported pending, not taken twice.
    assert till.statuses(batch[5:6]) == ["pending"]
    # Cut in the middle: only the first three arrive.
    assert till.statuses(batch[:3]) == ["applied"] * 3
    # The whole batch again: 4 and 5 fill the gap, 6..10 are applied with them.
    assert till.statuses(batch) == ["duplicate"] * 3 + ["applied"] * 2 + ["duplicate"] * 5
    # Twice more: nothing changes.
    for _ in range(2):
        assert till.statuses(batch) == ["duplicate"] * 10

    for sku in (s1, s2):
        assert level(server, sku, store["id"])["on_hand"] == expected(sku)
        moves = [m for m in all_movements(server, sku, store["id"])
                 if m["reference"].startswith(f"till {till.till_id} event ")]
        assert len(moves) == sum(1 for s, _, _ in lines if s == sku), moves
        assert len({m["reference"] for m in moves}) == len(moves)  # one movement per line
        assert sum(m["delta"] for m in moves) == expected(sku) - 50
        sales = [m for m in moves if m["reason"] == "sale_in_store"]
        assert len(sales) == sum(1 for s, _, t in lines if s == sku and t == "sale")
    st = sync_status(server, store["id"])
    assert (st["events_applied"], st["events_pending"]) == (10, 0)
    assert [(t["till_id"], t["last_seq"]) for t in st["tills"]] == [(till.till_id, 10)]

    # An event id used again with other content, or a seq of another event: rejected, no effect.
    changed = dict(batch[0], lines=[{"sku": s1, "quantity": 5}])
    other_seq = till.event("sale", [(s1, 1)], seq=3)
    other_time = dict(batch[1], occurred_at="2026-11-23T09:31:00.000Z")
    results = till.upload([changed, other_seq, other_time])
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert all(r["detail"] for r in results)
    # The same event id from another till is rejected too.
    other_till = Till(server, store["id"], till.token)
    assert other_till.statuses([dict(batch[0], seq=1)]) == ["rejected"]
    assert level(server, s1, store["id"])["on_hand"] == expected(s1)
    assert level(server, s2, store["id"])["on_hand"] == expected(s2)
    server.assert_consistent()


def test_gap_waits_pending_then_applies_in_seq_order(server):
    store = make_store(server)
    sku = server.seed({store["id"]: 1})
    till = Till(server, store["id"], server.token("admin"))
    receipt, sale, back = till.event("receipt", [(sku, 5)]), till.sale(sku, 6), \
        till.event("return", [(sku, 2)])
    # seq 2 (sells 6) first: it must not apply before seq 1 (receives 5).
    assert till.statuses([sale]) == ["pending"]
    assert level(server, sku, store["id"])["on_hand"] == 1
    # In one batch, out of order: seq 3 listed before seq 1; all apply, in seq order.
    assert till.statuses([back, receipt]) == ["applied", "applied"]
    assert level(server, sku, store["id"])["on_hand"] == 1 + 5 - 6 + 2
    assert conflicts_at(server, store["id"]) == []
    assert till.statuses([sale]) == ["duplicate"]
    moves = all_movements(server, sku, store["id"])  # newest first
    assert [(m["delta"], m["reason"]) for m in moves[:3]] == \
        [(2, "return"), (-6, "sale_in_store"), (5, "receipt")]
    assert sync_status(server, store["id"])["tills"][0]["last_seq"] == 3


def test_a_waiting_sale_resent_under_a_new_id_with_the_gap_filled_is_a_duplicate(server):
    store = make_store(server)
    sku = server.seed({store["id"]: 10})
    till = Till(server, store["id"], server.token("admin"))
    receipt, sale = till.event("receipt", [(sku, 5)]), till.sale(sku, 3)
    assert till.statuses([sale]) == ["pending"]
    # The till lost the sale's id and sends it again, with seq 1 that closes the gap: the stored
    # sale is applied in this very call, and the resent copy is that sale.
    resent = dict(sale, id=unique("ev"))
    assert till.statuses([receipt, resent]) == ["applied", "duplicate"]
    assert level(server, sku, store["id"])["on_hand"] == 10 + 5 - 3
    assert sync_status(server, store["id"])["events_pending"] == 0
    server.assert_consistent()


def test_sale_below_zero_is_a_fact_and_the_check_accepts_it(server):
    """The API lets a till sale take on_hand below zero (units the system did not know of)."""
    store = make_store(server)
    sku = server.seed({store["id"]: 1})
    till = Till(server, store["id"], server.token("ops"))
    try:
        assert till.statuses([till.sale(sku, 2)]) == ["applied"]
        lv = level(server, sku, store["id"])
        assert (lv["on_hand"], lv["available"]) == (-1, 0)
        rc, out = server.check()
        assert rc == 0, out
    finally:  # a count puts the shelf right, so later checks on this server stay clean
        server.ok("POST", f"/api/v1/sync/locations/{store['id']}/counts", status=201,
                  token=server.token("ops"), json={"lines": [{"sku": sku, "counted": 0}]})


def test_repeated_seq_with_the_same_content_is_a_duplicate(server):
    """Issue 3: "a repeated seq is a duplicate (or a rejected conflict if its content differs)"."""
    store = make_store(server)
    sku = server.seed({store["id"]: 5})
    till = Till(server, store["id"], server.token("ops"))
    sale = till.sale(sku, 1)
    assert till.statuses([sale]) == ["applied"]
    again = dict(sale, id=unique("ev"))  # the till lost the id and made a new one
    result = till.upload([again])[0]
    assert level(server, sku, store["id"])["on_hand"] == 4  # never a second effect
    assert result["status"] == "duplicate"


def test_unknown_sku_is_rejected_alone_and_later_seqs_wait(server):
    store = make_store(server)
    sku = server.seed({store["id"]: 10})
    till = Till(server, store["id"], server.token("ops"))
    bad = till.event("sale", [(unique("NOSUCH-"), 1)])
    good = till.sale(sku, 1)
    results = till.upload([bad, good])
    assert [r["status"] for r in results] == ["rejected", "pending"]
    assert "unknown sku" in results[0]["detail"]
    # The till corrects the event (same seq, new id): both apply.
    fixed = till.event("sale", [(sku, 2)], seq=bad["seq"])
    assert till.statuses([fixed]) == ["applied"]
    assert till.statuses([good]) == ["duplicate"]
    assert level(server, sku, store["id"])["on_hand"] == 7


# ---- d. counts ----

def test_partial_and_full_counts_record_variances(server):
    store = make_store(server)
    s1, s2, s3 = (server.seed({store["id"]: n}) for n in (10, 5, 7))
    clerk = clerk_of(server, store)
    path = f"/api/v1/sync/locations/{store['id']}/counts"

    report = server.ok("POST", path, status=201, token=clerk,
                       json={"lines": [{"sku": s1, "counted": 8}, {"sku": s2, "counted": 6},
                                       {"sku": s3, "counted": 7}],
                             "reference": "cycle count A"})
    assert report["full"] is False and report["location_id"] == store["id"]
    got = {ln["sku"]: (ln["expected"], ln["counted"], ln["variance"]) for ln in report["lines"]}
    assert got == {s1: (10, 8, -2), s2: (5, 6, 1), s3: (7, 7, 0)}
    assert [ln["sku"] for ln in report["lines"]] == sorted(got)
    assert report["total_variance"] == -1 and report["conflicts"] == []
    for sku, delta in ((s1, -2), (s2, 1)):
        moves = [m for m in all_movements(server, sku, store["id"])
                 if m["reason"] == "count_correction"]
        assert [(m["delta"], m["reference"]) for m in moves] == [(delta, "cycle count A")]
    assert not [m for m in all_movements(server, s3, store["id"])
                if m["reason"] == "count_correction"]

    # Full count listing only s1: s2 and s3 are counted as zero.
    report = server.ok("POST", path, status=201, token=server.token("ops"),
                       json={"full": True, "lines": [{"sku": s1, "counted": 8}]})
    got = {ln["sku"]: (ln["expected"], ln["counted"], ln["variance"]) for ln in report["lines"]}
    assert got == {s1: (8, 8, 0), s2: (6, 0, -6), s3: (7, 0, -7)}
    assert report["total_variance"] == -13 and report["full"] is True
    assert [level(server, s, store["id"])["on_hand"] for s in (s1, s2, s3)] == [8, 0, 0]
    moves = [m for m in all_movements(server, s3, store["id"]) if m["reason"] == "count_correction"]
    assert [m["delta"] for m in moves] == [-7]
    assert moves[0]["reference"].startswith("count by ")
    server.assert_consistent()


def test_count_below_allocations_runs_the_conflict_policy(server):
    g, h = make_store(server), make_store(server)
    sku = server.seed({g["id"]: 5})
    order = server.order(sku, 3)  # allocated at G
    cart = server.new_cart()
    cart.add_ok(sku, 1)  # held at G
    assert (level(server, sku, g["id"])["allocated"], level(server, sku, g["id"])["reserved"]) \
        == (3, 1)
    server.receive(sku, h["id"], 5)

    report = server.ok("POST", f"/api/v1/sync/locations/{g['id']}/counts", status=201,
                       token=server.token("admin"), json={"lines": [{"sku": sku, "counted": 1}]})
    assert [(ln["expected"], ln["counted"], ln["variance"]) for ln in report["lines"]] == \
        [(5, 1, -4)]
    [c] = report["conflicts"]
    assert (c["sku"], c["location_id"], c["shortfall"], c["resolved"]) == (sku, g["id"], 3, True)
    assert (c["holds_released"], c["units_reallocated"], c["units_unfulfillable"]) == (1, 2, 0)
    assert c["id"] in [x["id"] for x in conflicts_at(server, g["id"])]

    lg, lh = level(server, sku, g["id"]), level(server, sku, h["id"])
    assert (lg["on_hand"], lg["reserved"], lg["allocated"]) == (1, 0, 1)
    assert (lh["on_hand"], lh["allocated"]) == (5, 2)
    assert any("re-allocated" in n for n in timeline_notes(server, order["id"]))
    # The cart lost its hold at G; at checkout it holds again elsewhere.
    status, _, placed = cart.checkout({"payment_method": "cash_on_delivery",
                                       "email": f"{unique('late')}@example.com",
                                       "name": "Late Shopper",
                                       "address": {"name": "Late Shopper", "line1": "2 Jalan",
                                                   "city": "Ipoh", "postcode": "30000",
                                                   "country": "MY"}})
    assert status == 201, placed
    assert level(server, sku, h["id"])["allocated"] == 3
    server.assert_consistent()


# ---- e. snapshot ----

def test_snapshot_lists_levels_and_the_orders_the_store_serves(server):
    store = make_store(server)
    s1, s2 = sorted([server.seed({store["id"]: 4}), server.seed({store["id"]: 2})])
    shopper = server.register(name="Pick Upton")
    cart = server.new_cart(shopper["token"])
    cart.add_ok(s1, 1)
    assert cart.pickup(store["id"])[0] == 200
    status, _, pickup = cart.checkout({"payment_method": "cash_on_delivery"})
    assert status == 201, pickup
    delivery = server.order(s2, 2)  # ship-from-store: only this store has it

    snap = server.ok("GET", f"/api/v1/sync/locations/{store['id']}/snapshot",
                     token=clerk_of(server, store))
    assert snap["location"]["id"] == store["id"] and snap["location"]["code"] == store["code"]
    assert snap["generated_at"].endswith("Z")
    levels = {lv["sku"]: lv for lv in snap["levels"]}
    assert [lv["sku"] for lv in snap["levels"]] == sorted(levels)
    assert (levels[s1]["on_hand"], levels[s1]["allocated"], levels[s1]["available"]) == (4, 1, 3)
    assert (levels[s2]["on_hand"], levels[s2]["allocated"], levels[s2]["available"]) == (2, 2, 0)
    orders = {o["id"]: o for o in snap["orders"]}
    assert set(orders) == {pickup["id"], delivery["id"]}
    p = orders[pickup["id"]]
    assert (p["number"], p["fulfillment_method"], p["customer_name"], p["status"]) == \
        (pickup["number"], "pickup", "Pick Upton", pickup["status"])
    assert p["lines"] == [{"sku": s1, "quantity": 1}]
    d = orders[delivery["id"]]
    assert (d["fulfillment_method"], d["lines"]) == ("delivery", [{"sku": s2, "quantity": 2}])
    # Other stores' snapshots do not list these orders.
    other = make_store(server)
    assert server.ok("GET", f"/api/v1/sync/locations/{other['id']}/snapshot",
                     token=server.token("admin"))["orders"] == []


def test_pickup_order_is_not_moved_to_another_store(server):
    store, other = make_store(server), make_store(server)
    sku = server.seed({store["id"]: 1, other["id"]: 5})
    cart = server.new_cart()
    cart.add_ok(sku, 1)
    assert cart.pickup(store["id"])[0] == 200
    status, _, order = cart.checkout()
    assert status == 201, order
    till = Till(server, store["id"], server.token("ops"))
    assert till.statuses([till.sale(sku, 1)]) == ["conflict"]
    # The customer chose this store: the line is unfulfillable there, with a task, not moved.
    view = server.get_order(order["id"])
    assert view["lines"][0]["unfulfillable"] == 1 and view["status"] != "cancelled"
    assert level(server, sku, other["id"])["allocated"] == 0
    tasks = server.ok("GET", "/api/v1/contact-tasks?limit=100", token=server.token("ops"))["items"]
    assert [t["status"] for t in tasks if t["order_id"] == order["id"]] == ["open"]


# ---- f. sync status ----

def test_sync_status_tracks_uploads_seqs_and_staleness(server):
    quiet, busy = make_store(server), make_store(server)
    dc = make_store(server, kind="distribution_centre", pickup=False)
    sku = server.seed({busy["id"]: 20})

    st = sync_status(server, quiet["id"], role="merchant")
    assert (st["stale"], st["last_upload_at"], st["lag_seconds"], st["tills"]) == \
        (True, None, None, [])
    assert (st["events_applied"], st["events_pending"], st["conflicts"], st["conflicts_open"]) == \
        (0, 0, 0, 0)
    assert st["sells_in_store"] is True and st["name"] == quiet["name"]
    assert sync_status(server, dc["id"])["stale"] is False  # no till: never stale
    assert sync_status(server, busy["id"])["stale"] is True

    # An empty upload says the till is alive.
    alive = Till(server, quiet["id"], server.token("ops"), till_id="T-ALIVE")
    assert alive.statuses([]) == []
    st = sync_status(server, quiet["id"])
    assert st["stale"] is False and st["lag_seconds"] in (0, 1)
    assert [(t["till_id"], t["last_seq"]) for t in st["tills"]] == [("T-ALIVE", 0)]

    t1 = Till(server, busy["id"], server.token("admin"), till_id="T1")
    t2 = Till(server, busy["id"], server.token("admin"), till_id="T2")
    e1, e2, e3 = t1.sale(sku), t1.sale(sku), t1.sale(sku)
    assert t1.statuses([e1, e3]) == ["applied", "pending"]
    assert t2.statuses([t2.sale(sku, 2), t2.sale(sku, 2)]) == ["applied", "applied"]
    st = sync_status(server, busy["id"], role="clerk")
    assert st["stale"] is False and st["last_upload_at"] is not None
    assert [(t["till_id"], t["last_seq"]) for t in st["tills"]] == [("T1", 1), ("T2", 2)]
    assert all(t["last_upload_at"].endswith("Z") for t in st["tills"])
    assert st["last_upload_at"] == max(t["last_upload_at"] for t in st["tills"])
    assert (st["events_applied"], st["events_pending"]) == (3, 1)
    assert t1.statuses([e2]) == ["applied"]
    st = sync_status(server, busy["id"])
    assert (st["events_applied"], st["events_pending"]) == (5, 0)
    assert [(t["till_id"], t["last_seq"]) for t in st["tills"]] == [("T1", 3), ("T2", 2)]
    assert level(server, sku, busy["id"])["on_hand"] == 20 - 3 - 4


# ---- g. safety stock ----

def test_safety_stock_lowers_online_availability_and_absorbs_walk_in_sales(server):
    store = make_store(server)
    sku = unique("SKU-")
    product = server.product([sku])
    server.receive(sku, store["id"], 10)

    def online():
        p = server.ok("GET", f"/api/v1/products/{product['id']}")
        return p["variants"][0]["available_online"]
    assert online() == 10
    lv = server.ok("PUT", "/api/v1/inventory/safety-stock", token=server.token("ops"),
                   json={"sku": sku, "location_id": store["id"], "safety_stock": 3})
    assert (lv["sku"], lv["location_id"], lv["on_hand"], lv["safety_stock"], lv["available"]) == \
        (sku, store["id"], 10, 3, 7)
    assert online() == 7
    order = server.order(sku, 7)
    assert online() == 0
    assert_problem(server.new_cart().add(sku, 1), 409, "insufficient_stock")
    # More safety stock than is free: refused.
    assert_problem(server.req("PUT", "/api/v1/inventory/safety-stock", token=server.token("admin"),
                              json={"sku": sku, "location_id": store["id"], "safety_stock": 4}),
                   409, "stock_committed")

    # Walk-in customers buy the three units held back: no conflict, the order keeps its stock.
    till = Till(server, store["id"], clerk_of(server, store))
    assert till.statuses([till.sale(sku, 2), till.sale(sku, 1)]) == ["applied", "applied"]
    lv = level(server, sku, store["id"])
    assert (lv["on_hand"], lv["allocated"], lv["available"]) == (7, 7, 0)
    assert conflicts_at(server, store["id"]) == []
    assert server.get_order(order["id"])["lines"][0]["unfulfillable"] == 0
    assert online() == 0
    server.assert_consistent()


# ---- h. who may call what; bad input ----

@pytest.fixture(scope="module")
def authz(server):
    home, away = make_store(server), make_store(server)
    sku = server.seed({home["id"]: 10})
    return {"home": home, "away": away, "sku": sku,
            "home_clerk": clerk_of(server, home), "away_clerk": clerk_of(server, away),
            "customer": server.register()["token"]}


def store_calls(store_id, sku):
    base = f"/api/v1/sync/locations/{store_id}"
    return [("POST", f"{base}/events", {"till_id": "T-AUTH", "events": []}, 200),
            ("GET", f"{base}/snapshot", None, 200),
            ("POST", f"{base}/counts", {"lines": []}, 201)]


def other_calls(store_id, sku):
    return [("GET", "/api/v1/sync/status", None, 200),
            ("GET", "/api/v1/conflicts", None, 200),
            ("GET", "/api/v1/contact-tasks", None, 200),
            ("GET", "/api/v1/outbox", None, 200),
            ("PUT", "/api/v1/inventory/safety-stock",
             {"sku": sku, "location_id": store_id, "safety_stock": 0}, 200)]


# Who may call each route (handlers_sync.cc): store routes admin, ops and the store's clerk.
ALLOWED = {
    "/events": {"admin", "ops", "home_clerk"},
    "/snapshot": {"admin", "ops", "home_clerk"},
    "/counts": {"admin", "ops", "home_clerk"},
    "/api/v1/sync/status": {"admin", "merchant", "ops", "clerk", "home_clerk", "away_clerk"},
    "/api/v1/conflicts": {"admin", "merchant", "ops", "clerk", "home_clerk", "away_clerk"},
    "/api/v1/contact-tasks": {"admin", "merchant", "ops"},
    "/api/v1/outbox": {"admin", "ops"},
    "/api/v1/inventory/safety-stock": {"admin", "ops"},
}
CALLERS = ("anonymous", "customer", "merchant", "clerk", "home_clerk", "away_clerk", "ops",
           "admin")


def test_every_sync_route_checks_who_calls(server, authz):
    tokens = {"anonymous": None, "customer": authz["customer"], "home_clerk": authz["home_clerk"],
              "away_clerk": authz["away_clerk"]}
    for role in ("merchant", "clerk", "ops", "admin"):  # "clerk": a clerk with no store
        tokens[role] = server.token(role)
    calls = store_calls(authz["home"]["id"], authz["sku"]) + other_calls(authz["home"]["id"],
                                                                        authz["sku"])
    seen = []
    for method, path, body, ok_status in calls:
        key = next(k for k in ALLOWED if path.endswith(k))
        for caller in CALLERS:
            resp = server.req(method, path, json=body, token=tokens[caller])
            if caller in ALLOWED[key]:
                assert resp[0] == ok_status, (caller, method, path, resp[2])
            elif caller == "anonymous":
                assert_problem(resp, 401, "unauthorized")
            else:
                assert_problem(resp, 403, "forbidden")
            seen.append((path, caller, resp[0]))
    assert len(seen) == len(calls) * len(CALLERS)


def test_refused_callers_change_nothing(server, authz):
    home, sku = authz["home"], authz["sku"]
    before = level(server, sku, home["id"])["on_hand"]
    for token in (None, authz["customer"], authz["away_clerk"], server.token("merchant"),
                  server.token("clerk")):
        till = Till(server, home["id"], token, till_id="T-INTRUDER")
        status, _, _ = till.post([till.sale(sku, 5)])
        assert status in (401, 403)
        status, _, _ = server.req("POST", f"/api/v1/sync/locations/{home['id']}/counts",
                                  json={"lines": [{"sku": sku, "counted": 0}]}, token=token)
        assert status in (401, 403)
    assert level(server, sku, home["id"])["on_hand"] == before
    assert "T-INTRUDER" not in [t["till_id"] for t in sync_status(server, home["id"])["tills"]]
    # The away clerk may work at its own store.
    away = Till(server, authz["away"]["id"], authz["away_clerk"])
    assert away.statuses([]) == []


def test_batch_limit_is_500_events(server):
    store = make_store(server)
    sku = server.seed({store["id"]: 10})
    till = Till(server, store["id"], server.token("ops"))
    too_many = [till.event("receipt", [(sku, 1)]) for _ in range(501)]
    assert_problem(till.post(too_many), 422, "too_many_lines")
    assert level(server, sku, store["id"])["on_hand"] == 10
    fat = till.event("receipt", [(sku, 1)] * 101, seq=1)
    assert_problem(till.post([fat]), 422, "too_many_lines")
    # Exactly 500: taken whole.
    till.seq = 0
    full = [till.event("receipt", [(sku, 1)]) for _ in range(500)]
    assert till.statuses(full) == ["applied"] * 500
    assert level(server, sku, store["id"])["on_hand"] == 510
    assert sync_status(server, store["id"])["tills"][0]["last_seq"] == 500


def _bad(ev, **change):
    out = json.loads(json.dumps(ev))
    for k, v in change.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("what,change", [
    ("seq 0", {"seq": 0}),
    ("seq negative", {"seq": -3}),
    ("seq a string", {"seq": "1"}),
    ("no seq", {"seq": None}),
    ("bad occurred_at", {"occurred_at": "yesterday"}),
    ("occurred_at not UTC", {"occurred_at": "2026-11-23T09:30:00+08:00"}),
    ("unknown type", {"type": "theft"}),
    ("no type", {"type": None}),
    ("empty id", {"id": ""}),
    ("id too long", {"id": "x" * 101}),
    ("no lines", {"lines": []}),
    ("quantity 0", {"lines": "Q0"}),
    ("negative sale", {"lines": "Q-1"}),
    ("quantity too large", {"lines": "Q1000001"}),
    ("bad sku", {"lines": "SKU"}),
    ("line not an object", {"lines": ["x"]}),
])
def test_malformed_event_refuses_the_whole_batch(server, what, change):
    store = _malformed_store(server)
    sku = store["sku"]
    till = Till(server, store["id"], server.token("admin"))
    good = till.sale(sku, 1)
    bad = till.sale(sku, 1)
    if change.get("lines") == "Q0":
        change = {"lines": [{"sku": sku, "quantity": 0}]}
    elif change.get("lines") == "Q-1":
        change = {"lines": [{"sku": sku, "quantity": -1}]}
    elif change.get("lines") == "Q1000001":
        change = {"lines": [{"sku": sku, "quantity": 1000001}]}
    elif change.get("lines") == "SKU":
        change = {"lines": [{"sku": "bad sku!", "quantity": 1}]}
    body = assert_problem(till.post([good, _bad(bad, **change)]), 422, "validation_failed")
    assert "events[1]" in body["detail"], body
    assert level(server, sku, store["id"])["on_hand"] == 10
    assert till.till_id not in [t["till_id"] for t in sync_status(server, store["id"])["tills"]]
    # The good event alone is taken afterwards: it was not half-taken before.
    assert till.statuses([good]) == ["applied"]
    assert level(server, sku, store["id"])["on_hand"] == 9
    server.receive(sku, store["id"], 1)


_MALFORMED = {}


def _malformed_store(server):
    if "store" not in _MALFORMED:
        store = make_store(server)
        _MALFORMED["store"] = dict(store, sku=server.seed({store["id"]: 10}))
    return _MALFORMED["store"]


@pytest.mark.parametrize("body,code", [
    ({"events": []}, "validation_failed"),
    ({"till_id": "", "events": []}, "validation_failed"),
    ({"till_id": "x" * 65, "events": []}, "validation_failed"),
    ({"till_id": "T1"}, "validation_failed"),
    ({"till_id": "T1", "events": {}}, "validation_failed"),
    ({"till_id": "T1", "events": ["sale"]}, "validation_failed"),
    ([], "validation_failed"),
])
def test_malformed_upload_body(server, body, code):
    store = _malformed_store(server)
    resp = server.req("POST", f"/api/v1/sync/locations/{store['id']}/events", json=body,
                      token=server.token("ops"))
    assert_problem(resp, 422, code)


def test_upload_and_count_edge_cases(server):
    store = _malformed_store(server)
    ops = server.token("ops")
    assert_problem(server.req("POST", "/api/v1/sync/locations/99999999/events", token=ops,
                              json={"till_id": "T1", "events": []}), 404, "not_found")
    assert_problem(server.req("GET", "/api/v1/sync/locations/99999999/snapshot", token=ops),
                   404, "not_found")
    assert_problem(server.req("POST", f"/api/v1/sync/locations/{store['id']}/events", token=ops,
                              raw_body="{not json"), 400, "malformed_json")
    counts = f"/api/v1/sync/locations/{store['id']}/counts"
    for bad in ({"lines": [{"sku": store["sku"], "counted": -1}]},
                {"lines": [{"sku": store["sku"], "counted": 1},
                           {"sku": store["sku"], "counted": 2}]},
                {"full": "yes", "lines": []},
                {"lines": "all"}):
        assert_problem(server.req("POST", counts, json=bad, token=ops), 422, "validation_failed")
    assert_problem(server.req("POST", counts, token=ops,
                              json={"lines": [{"sku": unique("NOSUCH-"), "counted": 1}]}),
                   404, "not_found")
    assert level(server, store["sku"], store["id"])["on_hand"] >= 9
    for q in ("status=maybe", "limit=0", "limit=101"):
        assert_problem(server.req("GET", f"/api/v1/contact-tasks?{q}", token=ops), 422,
                       "validation_failed")
    assert_problem(server.req("GET", "/api/v1/conflicts?location_id=abc", token=ops), 422,
                   "validation_failed")
    assert_problem(server.req("PUT", "/api/v1/inventory/safety-stock", token=ops,
                              json={"sku": store["sku"], "location_id": store["id"],
                                    "safety_stock": -1}), 422, "validation_failed")
    assert_problem(server.req("PUT", "/api/v1/inventory/safety-stock", token=ops,
                              json={"sku": unique("NOSUCH-"), "location_id": store["id"],
                                    "safety_stock": 1}), 404, "not_found")
    server.assert_consistent()


# ---- i. the till simulator ----

def test_till_simulator_verifies_exactly_once(server_factory, tmp_path):
    fresh = server_factory()
    report_path = tmp_path / "till-sim.json"
    cmd = [sys.executable, SIMULATOR, "--url", f"http://127.0.0.1:{fresh.port}",
           "--email", fresh.staff_email["admin"], "--password", STAFF_PASSWORD,
           "--stores", "2", "--tills-per-store", "2", "--skus", "8", "--duration-seconds", "5",
           "--seed", "20261123", "--pause-ms", "150", "--events-per-round", "6", "--report-json", str(report_path),
           "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"simulator rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    report = json.loads(report_path.read_text())
    assert report["passed"] is True and report["failures"] == [], report["failures"]
    v = report["verification"]
    assert v["on_hand_mismatches"] == 0 and v["oversold_levels"] == 0, v
    assert report["events_made"] > 50 and report["events_applied"] == report["events_made"]
    assert v["events_applied_server"] == report["events_made"]
    assert report["statuses"].get("rejected", 0) == 0
    for status in ("applied", "duplicate", "pending"):
        assert report["statuses"].get(status, 0) > 0, report["statuses"]
    faults = report["faults"]
    assert faults["batches_dropped"] + faults["replies_lost"] > 0, faults
    assert report["throughput"]["events_applied_per_second"] > 0
    assert json.loads(r.stdout.strip().splitlines()[-1])["passed"] is True
    fresh.assert_consistent()


def test_till_simulator_help():
    r = subprocess.run([sys.executable, SIMULATOR, "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "--tills-per-store" in r.stdout and "--report-json" in r.stdout
    r = subprocess.run([sys.executable, SIMULATOR, "--email", "a@b.c", "--password", "x",
                        "--duration-seconds", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
