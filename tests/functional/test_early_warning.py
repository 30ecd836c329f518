"""Tell customers early (issue 3, point 9): when a SKU can no longer be promised online, carts that
want it without a live hold show a warning and the customer gets a notice in the outbox."""

import time

from conftest import unique


def upload_sale(server, location_id, sku, quantity, seq):
    return server.ok("POST", f"/api/v1/sync/locations/{location_id}/events",
                     token=server.token("admin"),
                     json={"till_id": "till-1", "events": [{
                         "id": unique("ev-"), "seq": seq, "type": "sale",
                         "occurred_at": "2026-12-12T10:00:00.000Z",
                         "lines": [{"sku": sku, "quantity": quantity}]}]})


def test_a_sold_out_item_in_a_cart_without_a_hold_warns_the_customer(server_factory):
    server = server_factory(extra_args=["--hold-ttl-seconds", "1", "--hold-sweep-ms", "100"])
    store = server.location()
    sku = server.seed({store: 2})
    shopper = server.register()
    cart = server.new_cart(shopper["token"])
    cart.add_ok(sku, 2)
    assert cart.get()["items"][0]["warning"] is None
    time.sleep(1.5)  # the hold expires and is swept
    line = cart.get()["items"][0]
    assert line["held"] == 0 and line["warning"] == "not_held"

    upload_sale(server, store, sku, 2, seq=1)  # the store sells the last two over the counter

    line = cart.get()["items"][0]
    assert line["warning"] == "sold_out"
    outbox = server.ok("GET", "/api/v1/outbox", token=server.token("admin"))["items"]
    notices = [m for m in outbox if m["kind"] == "cart_item_sold_out"]
    assert len(notices) == 1
    assert notices[0]["recipient"] == shopper["email"] and sku in notices[0]["body"]
    # Told once: another sale-driven check does not repeat the notice.
    server.receive(sku, store, 1)
    upload_sale(server, store, sku, 1, seq=2)
    outbox = server.ok("GET", "/api/v1/outbox", token=server.token("admin"))["items"]
    assert len([m for m in outbox if m["kind"] == "cart_item_sold_out"]) == 1
    server.assert_consistent()
