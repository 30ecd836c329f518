"""HTTP behaviour every client relies on: request ids, keep-alive, errors for unknown paths and
methods, health and metrics endpoints, and the OpenAPI document."""

import http.client
import json
import re
import socket
import time

import pytest

from conftest import assert_problem, read_http_answer, recv_or_closed, unique

# Every route the tests use, as "METHOD /path/{param}".
ROUTES = [
    "POST /api/v1/customers", "POST /api/v1/auth/login", "POST /api/v1/auth/logout",
    "GET /api/v1/me", "GET /api/v1/me/orders",
    "GET /api/v1/products", "POST /api/v1/products", "GET /api/v1/products/{id}",
    "PATCH /api/v1/products/{id}",
    "GET /api/v1/locations", "POST /api/v1/locations",
    "GET /api/v1/inventory", "GET /api/v1/inventory/movements",
    "POST /api/v1/inventory/adjustments",
    "POST /api/v1/carts", "GET /api/v1/carts/{id}", "POST /api/v1/carts/{id}/items",
    "PATCH /api/v1/carts/{id}/items/{sku}", "DELETE /api/v1/carts/{id}/items/{sku}",
    "PUT /api/v1/carts/{id}/fulfillment", "POST /api/v1/carts/{id}/checkout",
    "GET /api/v1/orders", "GET /api/v1/orders/{id}", "POST /api/v1/orders/{id}/transitions",
    "POST /api/v1/orders/{id}/cancel", "GET /api/v1/track/{code}",
    "GET /healthz", "GET /readyz", "GET /metrics",
    "GET /api/v1/orders/{id}/payments", "POST /api/v1/orders/{id}/payments",
    "POST /api/v1/orders/{id}/payments/{pid}/proofs",
    "GET /api/v1/orders/{id}/payments/{pid}/proofs/{fid}",
    "POST /api/v1/orders/{id}/payments/{pid}/verify",
    "POST /api/v1/orders/{id}/payments/{pid}/reject", "POST /api/v1/orders/{id}/refunds",
    "GET /api/v1/orders/{id}/invoices", "GET /api/v1/orders/{id}/invoice.pdf",
    "GET /api/v1/orders/{id}/documents/{doc}", "GET /api/v1/orders/{id}/shipments",
    "GET /api/v1/orders/{id}/shipments/{sid}/handover-code.svg",
    "GET /api/v1/shipments/{id}", "POST /api/v1/shipments/{id}/scans",
    "POST /api/v1/shipments/{id}/ship", "POST /api/v1/shipments/{id}/handover",
    "GET /api/v1/locations/{id}/pick-list", "POST /api/v1/webhooks/payments",
    "POST /api/v1/webhooks/carrier",
]


def test_every_response_has_a_request_id(server):
    cart = server.new_cart()
    answers = [
        server.req("GET", "/healthz"),
        server.req("GET", "/api/v1/products"),
        server.req("POST", "/api/v1/carts"),
        server.req("GET", "/api/v1/me"),  # 401
        server.req("GET", "/api/v1/orders", token=server.token("clerk")),
        server.req("POST", "/api/v1/products", token=server.token("clerk"), json={}),  # 403
        server.req("GET", "/no/such/path"),  # 404
        server.req("DELETE", "/api/v1/products"),  # 405
        cart.call("POST", "/items", raw_body=b"{oops"),  # 400
        cart.call("POST", "/items", json={"sku": "NOPE", "quantity": 1}),  # 404
        cart.call("POST", "/items", json={"quantity": 1}),  # 422
        server.req("GET", "/metrics"),
    ]
    ids = []
    for status, headers, body in answers:
        rid = headers.get("X-Request-Id")
        assert rid, f"no X-Request-Id on a {status} answer: {body!r}"
        ids.append(rid)
    assert len(set(ids)) == len(ids), ids


def test_request_id_on_http_level_errors(server):
    """Even requests refused by the HTTP layer (malformed, headers too large) carry an id."""
    for raw in (b"GARBAGE\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        try:
            sock.sendall(raw)
            data = b""
            while True:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break  # the server closes without reading the rest of our request
                if not chunk:
                    break
                data += chunk
        finally:
            sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        assert status in (400, 431), head
        assert re.search(rb"(?im)^x-request-id: *\S+", head), head
        assert re.search(rb"(?im)^content-type: *application/problem\+json", head), head
        problem = json.loads(body)
        assert problem["code"] == ("malformed_request" if status == 400 else "headers_too_large")
    assert server.ok("GET", "/healthz")["status"] == "ok"


def test_keep_alive_serves_many_requests_on_one_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        peers = set()
        statuses = []
        cart_id = cart_token = None
        plan = [("GET", "/healthz", None, {}), ("GET", "/api/v1/products?limit=1", None, {}),
                ("POST", "/api/v1/carts", b"", {}), ("GET", "/no/such/path", None, {}),
                ("GET", "/api/v1/me", None, {}), ("GET", "/readyz", None, {})]
        for method, path, body, headers in plan:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            statuses.append(resp.status)
            assert (resp.getheader("Connection") or "").lower() != "close", (path, resp.status)
            peers.add(conn.sock.getsockname())
            if path == "/api/v1/carts":
                created = json.loads(data)
                cart_id, cart_token = created["id"], created["token"]
        # The cart made on this connection is reachable on it too.
        conn.request("GET", f"/api/v1/carts/{cart_id}", headers={"X-Cart-Token": cart_token})
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["id"] == cart_id
        peers.add(conn.sock.getsockname())
        assert statuses == [200, 200, 201, 404, 401, 200]
        assert len(peers) == 1, f"the connection was reopened: {peers}"
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /no/such/thing HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3})", data)]
    assert statuses == [200, 404, 200], data[:500]


def test_answers_follow_the_http_version_and_connection_rules(server):
    def answer(raw):
        """Sends `raw` on a new connection and reads one answer; then whether the connection is
        still open (a second request is answered) or was closed."""
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        try:
            sock.sendall(raw)
            head, body = read_http_answer(sock)
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                again, _ = read_http_answer(sock)
            except OSError:
                again = b""
            return head, body, again.startswith(b"HTTP/1.1 200")
        finally:
            sock.close()

    # HTTP/1.0 closes unless the client asks to keep the connection, and says when it keeps it.
    head, _, kept = answer(b"GET /healthz HTTP/1.0\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n") and not kept, head
    assert b"\r\nconnection:" not in head.lower()
    head, _, kept = answer(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n") and kept, head
    assert b"\r\nconnection: keep-alive" in head.lower()
    # HTTP/1.1 says "close" when it closes.
    head, body, kept = answer(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert not kept and b"\r\nconnection: close" in head.lower(), head
    # The status line, the headers, and exactly Content-Length bytes of body; HEAD announces the
    # same length and sends no body.
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    assert int(fields[b"Content-Length"]) == len(body) and json.loads(body) == {"status": "ok"}
    assert fields[b"Server"] == b"tandem" and fields[b"Cache-Control"] == b"no-store"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    try:
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert rest == b"" and b"\r\nContent-Length: %d" % len(body) in head, data


def test_request_time_limit_closes_slow_and_idle_connections(server_factory):
    # --request-timeout-seconds (default 30, kRequestSecondsMax): a request must be read, and its
    # answer written, within it; a keep-alive connection idle that long is closed.
    srv = server_factory(["--request-timeout-seconds", "1"], staff=False)

    def seconds_until_closed(sock):
        start = time.monotonic()
        sock.settimeout(10)
        assert recv_or_closed(sock) == b""  # closed by the server, not answered
        return time.monotonic() - start

    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        assert 0.5 <= seconds_until_closed(sock) < 8
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _ = read_http_answer(sock)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert 0.5 <= seconds_until_closed(sock) < 8  # idle after its answer
    # A head trickled a byte at a time: the limit covers the whole request, not each read.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        start = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        if not closed:
            assert seconds_until_closed(sock) < 8
        assert time.monotonic() - start < 4, "a trickled head outlived the 1 s limit"
    # Slower than one read but within the limit: answered, and the connection still serves.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.3)
        sock.sendall(b"Host: x\r\n\r\n")
        head, _ = read_http_answer(sock)
        assert head.startswith(b"HTTP/1.1 200"), head
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _ = read_http_answer(sock)
        assert head.startswith(b"HTTP/1.1 200"), head


def test_unknown_path_is_problem_json_404(server):
    for path in ("/nope", "/api/v1/nothing", "/api/v2/products", "/api/v1/products/1/extra",
                 "/api/v1/carts/", "/" + "a" * 3000):
        body = assert_problem(server.req("GET", path), 404, "not_found")
        assert len(body["detail"]) < 1000


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/v1/products"), ("PUT", "/api/v1/orders"), ("POST", "/healthz"),
    ("GET", "/api/v1/carts/1/checkout"), ("PATCH", "/api/v1/locations"),
    ("DELETE", "/api/v1/orders/1"),
])
def test_wrong_method_is_405(server, method, path):
    assert_problem(server.req(method, path, token=server.token("admin")), 405,
                   "method_not_allowed")


def test_405_names_the_allowed_methods(server):
    """RFC 9110 §15.5.6: a 405 answer MUST carry Allow with the methods the resource supports."""
    status, headers, _ = server.req("DELETE", "/api/v1/products")
    assert status == 405
    allow = {m.strip() for m in (headers.get("Allow") or "").split(",") if m.strip()}
    assert {"GET", "POST"} <= allow, f"Allow header: {headers.get('Allow')!r}"


def test_head_is_answered_without_a_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.request("HEAD", "/healthz")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == b""
        # And the connection still works afterwards.
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        assert json.loads(resp.read()) == {"status": "ok"}
    finally:
        conn.close()


def test_health_and_readiness(server):
    status, headers, body = server.req("GET", "/healthz")
    assert status == 200 and body == {"status": "ok"}
    assert headers.get("Content-Type", "").startswith("application/json")
    status, _, body = server.req("GET", "/readyz")
    assert status == 200 and body == {"status": "ready"}


def metric_value(text, name, labels):
    pattern = re.escape(name) + r"\{" + ",".join(
        re.escape(f'{k}="{v}"') for k, v in labels.items()) + r"\} (\d+(?:\.\d+)?)"
    m = re.search(pattern, text)
    return float(m.group(1)) if m else 0.0


def test_metrics_count_requests(server):
    status, headers, text = server.req("GET", "/metrics")
    assert status == 200
    assert headers.get("Content-Type", "").startswith("text/plain")
    assert "# TYPE tandem_http_requests_total counter" in text
    labels = {"route": "GET /api/v1/track/{code}", "status": "404"}
    before = metric_value(text, "tandem_http_requests_total", labels)
    for _ in range(3):
        server.req("GET", f"/api/v1/track/{unique('NOPE')}")
    after = metric_value(server.req("GET", "/metrics")[2], "tandem_http_requests_total", labels)
    assert after == before + 3
    assert "tandem_http_request_seconds_bucket" in text
    # Nothing unexpected happened so far.
    assert re.search(r"^tandem_unexpected_total 0$", text, re.M), text[-500:]
    assert re.search(r"^tandem_check_failures_total 0$", text, re.M), text[-500:]
    # Every line is valid exposition format.
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(
            r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+]?([0-9.eE+-]+|Inf|NaN)', line), line


def test_openapi_lists_every_route(server):
    status, headers, doc = server.req("GET", "/api/v1/openapi.json")
    assert status == 200
    assert headers.get("Content-Type", "").startswith("application/json")
    assert isinstance(doc, dict), "openapi.json does not parse as JSON"
    assert str(doc.get("openapi", "")).startswith("3."), doc.get("openapi")
    paths = doc.get("paths", {})

    def norm(p):
        return re.sub(r"\{[^}]+\}", "{}", p)
    documented = {f"{m.upper()} {norm(p)}" for p, ops in paths.items() for m in ops
                  if m.lower() in ("get", "post", "put", "patch", "delete")}
    missing = [r for r in ROUTES if f"{r.split()[0]} {norm(r.split()[1])}" not in documented]
    assert not missing, f"openapi.json does not document: {missing}"


def test_responses_are_not_cached(server):
    _, headers, _ = server.req("GET", "/api/v1/products")
    assert "no-store" in (headers.get("Cache-Control") or "")
