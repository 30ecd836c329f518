"""Transfers between locations (issue 3, point 6): out at the sender, in transit, in at the
receiver; each step is a ledger movement and nothing held or allocated can be sent away."""

from conftest import assert_problem


def test_a_transfer_moves_units_through_transit(server):
    dc = server.location(kind="distribution_centre", pickup=False)
    store = server.location()
    sku = server.seed({dc: 10})
    admin = server.token("admin")
    started = server.ok("POST", "/api/v1/transfers", status=201, token=admin,
                        json={"sku": sku, "from_location_id": dc, "to_location_id": store,
                              "quantity": 4, "note": "top up the store"})
    assert started["status"] == "in_transit"
    levels = server.levels(sku)
    assert levels[dc]["on_hand"] == 6 and levels[store]["on_hand"] == 0  # in transit: nowhere
    listed = server.ok("GET", "/api/v1/transfers?status=in_transit", token=admin)["items"]
    assert started["id"] in [t["id"] for t in listed]
    received = server.ok("POST", f"/api/v1/transfers/{started['id']}/receive", token=admin)
    assert received["status"] == "received" and received["received_at"]
    assert server.levels(sku)[store]["on_hand"] == 4
    out = [m for m in server.movements(sku, dc) if m["reason"] == "transfer_out"]
    into = [m for m in server.movements(sku, store) if m["reason"] == "transfer_in"]
    assert [m["delta"] for m in out] == [-4] and [m["delta"] for m in into] == [4]
    again = server.req("POST", f"/api/v1/transfers/{started['id']}/receive", token=admin)
    assert_problem(again, 409, "conflict")
    assert server.levels(sku)[store]["on_hand"] == 4
    server.assert_consistent()


def test_units_promised_to_shoppers_cannot_be_sent_away(server):
    dc = server.location(kind="distribution_centre", pickup=False)
    store = server.location()
    sku = server.seed({dc: 3})
    server.order(sku, 2)
    admin = server.token("admin")
    resp = server.req("POST", "/api/v1/transfers", token=admin,
                      json={"sku": sku, "from_location_id": dc, "to_location_id": store,
                            "quantity": 2})
    assert_problem(resp, 409, "stock_committed")
    assert server.levels(sku)[dc]["on_hand"] == 3
    same = server.req("POST", "/api/v1/transfers", token=admin,
                      json={"sku": sku, "from_location_id": dc, "to_location_id": dc,
                            "quantity": 1})
    assert_problem(same, 422, "validation_failed")
    server.assert_consistent()
