"""Overload: past each bound (`--max-connections`, `--max-queued-requests`,
`--max-queued-writes`) a request is answered 503 with Retry-After at once, as problem+json, and
the server goes on serving; nothing waits in a queue that grows without bound."""

import json
import socket
import time

from conftest import assert_problem, read_http_response, recv_or_closed

BURST = 64  # connections per burst
ROUNDS = 30  # bursts at most until one meets the bound


def burst(port, raw_request, connections=BURST):
    """Sends `raw_request` on `connections` connections of their own, all before reading any
    answer; returns [(status, headers with lower-case names, body bytes)]."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(connections)]
    try:
        for s in socks:
            s.sendall(raw_request)
        return [read_http_response(s, timeout=30) for s in socks]
    finally:
        for s in socks:
            s.close()


def assert_unavailable(answer):
    status, headers, body = answer
    assert headers.get("retry-after") == "1", headers
    assert_problem((status, {"Content-Type": headers.get("content-type", "")}, json.loads(body)),
                   503, "unavailable")


def bursts_until_refused(port, raw_request, ok_status):
    """Bursts until one has a 503; every answer is `ok_status` or 503. Returns all answers."""
    answers = []
    for _ in range(ROUNDS):
        got = burst(port, raw_request)
        answers += got
        assert {a[0] for a in got} <= {ok_status, 503}, sorted({a[0] for a in got})
        if any(a[0] == 503 for a in got):
            return answers
    raise AssertionError(f"{ROUNDS} bursts of {BURST} never met the bound")


def test_a_request_past_max_connections_is_answered_503_and_closed(server_factory):
    srv = server_factory(["--max-connections", "3"], staff=False)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(3)]
    try:
        for s in held:  # three open keep-alive connections, each served
            s.sendall(request)
            assert read_http_response(s)[0] == 200
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as extra:
            extra.sendall(request)
            answer = read_http_response(extra)
            assert_unavailable(answer)
            assert answer[1].get("connection") == "close", answer[1]
            assert recv_or_closed(extra) == b""  # and closed
        held[0].sendall(request)  # the three still serve
        assert read_http_response(held[0])[0] == 200
    finally:
        for s in held:
            s.close()
    # Once they are closed, new connections are served again.
    deadline = time.monotonic() + 20
    while srv.req("GET", "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "connections were not counted down after closing"
        time.sleep(0.1)


def test_blocking_requests_past_max_queued_requests_are_answered_503(server_factory):
    # One worker thread, at most one request waiting for it: a burst of searches (a blocking
    # route) meets the bound; the requests taken are answered 200.
    srv = server_factory(["--threads", "1", "--max-queued-requests", "1"], staff=False)
    start = time.monotonic()
    answers = bursts_until_refused(
        srv.port, b"GET /api/v1/products?q=shoe HTTP/1.1\r\nHost: x\r\n\r\n", 200)
    elapsed = time.monotonic() - start
    assert any(a[0] == 200 for a in answers)
    refused = [a for a in answers if a[0] == 503]
    for a in refused:
        assert_unavailable(a)
    # Afterwards both kinds of route serve: the workers' (a search) and the I/O threads'.
    assert srv.req("GET", "/api/v1/products")[0] == 200
    assert srv.req("GET", "/healthz")[0] == 200
    # 503s are logged at most one a second (the metrics count them all).
    with open(srv.stderr_path, encoding="utf-8", errors="replace") as f:
        logged = sum(1 for line in f if "-> 503" in line)
    assert 1 <= logged <= int(elapsed) + 2, (logged, len(refused), elapsed)
    if len(refused) > int(elapsed) + 2:
        assert logged < len(refused)


def test_writes_past_max_queued_writes_are_answered_503_and_change_nothing(server_factory):
    # At most one write waiting for the writer: a burst of new carts meets the bound. Each cart
    # answered 201 exists; each 503 made none (the carts' ids are consecutive, so the ids given
    # out count the carts made).
    srv = server_factory(["--max-queued-writes", "1"], staff=False)
    body = b"{}"
    raw = (b"POST /api/v1/carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    before = srv.new_cart().id
    answers = bursts_until_refused(srv.port, raw, 201)
    made = [json.loads(a[2]) for a in answers if a[0] == 201]
    assert made, "no cart was made"
    for a in answers:
        if a[0] == 503:
            assert_unavailable(a)
    for cart in made[:20]:
        got = srv.req("GET", f"/api/v1/carts/{cart['id']}", headers={"X-Cart-Token": cart["token"]})
        assert got[0] == 200, got
    after = srv.new_cart().id
    assert after - before - 1 == len(made), "a refused write made a cart"
