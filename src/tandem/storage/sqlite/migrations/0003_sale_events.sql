-- Tandem schema, version 3: sale events (ring-fenced online quantities, per-customer limits) and
-- transfers between locations.
CREATE TABLE sale_events (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  starts_ms INTEGER NOT NULL,
  ends_ms INTEGER NOT NULL,
  per_customer_limit INTEGER NOT NULL CHECK (per_customer_limit > 0),
  created_ms INTEGER NOT NULL,
  CHECK (ends_ms > starts_ms)
);

-- committed = units of the SKU held in carts or allocated to orders under the event (shipped
-- included); it never passes the ring-fenced quantity.
CREATE TABLE sale_event_skus (
  event_id INTEGER NOT NULL REFERENCES sale_events(id),
  sku TEXT NOT NULL REFERENCES variants(sku),
  ring_fenced INTEGER NOT NULL CHECK (ring_fenced > 0),
  committed INTEGER NOT NULL DEFAULT 0 CHECK (committed >= 0 AND committed <= ring_fenced),
  PRIMARY KEY (event_id, sku)
) WITHOUT ROWID;
CREATE INDEX sale_event_skus_sku ON sale_event_skus(sku);

-- Units each customer (account, or e-mail for guests) bought per SKU during an event.
CREATE TABLE sale_event_purchases (
  event_id INTEGER NOT NULL REFERENCES sale_events(id),
  customer_key TEXT NOT NULL,
  sku TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (event_id, customer_key, sku)
) WITHOUT ROWID;

ALTER TABLE holds ADD COLUMN event_id INTEGER REFERENCES sale_events(id);
ALTER TABLE allocations ADD COLUMN event_id INTEGER REFERENCES sale_events(id);
ALTER TABLE allocations ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0;

-- Transfers between locations: out at the sender, in transit, in at the receiver.
CREATE TABLE transfers (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL REFERENCES variants(sku),
  from_location_id INTEGER NOT NULL REFERENCES locations(id),
  to_location_id INTEGER NOT NULL REFERENCES locations(id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  status TEXT NOT NULL,  -- in_transit | received
  note TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  received_ms INTEGER,
  CHECK (from_location_id <> to_location_id)
);
CREATE INDEX transfers_status ON transfers(status, id);
