-- Tandem schema, version 14: what happens after "order placed". Payments are verified (by staff
-- or by the card provider's signed webhook), with proof files and refunds; an order's allocations
-- at one location form a shipment that is packed by scanning each unit and shipped or handed
-- over; invoices and credit notes get gapless numbers per kind and year.
ALTER TABLE payments ADD COLUMN reference TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0);
ALTER TABLE payments ADD COLUMN provider_session TEXT;
ALTER TABLE payments ADD COLUMN provider_payment TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN redirect_url TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX payments_provider_session ON payments(provider_session)
  WHERE provider_session IS NOT NULL;

CREATE TABLE payment_proofs (
  id INTEGER PRIMARY KEY,
  payment_id INTEGER NOT NULL REFERENCES payments(id),
  sha256 TEXT NOT NULL,
  media_type TEXT NOT NULL,
  bytes INTEGER NOT NULL CHECK (bytes > 0),
  filename TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX payment_proofs_payment ON payment_proofs(payment_id);

CREATE TABLE refunds (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  payment_id INTEGER NOT NULL REFERENCES payments(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  provider_refund TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds(order_id);

-- Each event of the card provider is applied once, whenever and however often it arrives.
CREATE TABLE provider_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  received_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Invoices and credit notes. The number is the next of its kind and year, taken in the
-- transaction that issues the document (document_sequences), so the numbers have no gap.
CREATE TABLE document_sequences (
  kind TEXT NOT NULL,
  year INTEGER NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY (kind, year)
) WITHOUT ROWID;

CREATE TABLE invoices (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  year INTEGER NOT NULL,
  sequence INTEGER NOT NULL CHECK (sequence > 0),
  number TEXT NOT NULL UNIQUE,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  refund_id INTEGER REFERENCES refunds(id),
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  tax_rate_bp INTEGER NOT NULL,
  seller TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (kind, year, sequence)
);
CREATE INDEX invoices_order ON invoices(order_id);

-- An order's allocations at one location are one shipment (a pick-up is a shipment handed over
-- at the store). Its units are the order's allocations there; the scans count what was packed.
CREATE TABLE shipments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  location_id INTEGER NOT NULL REFERENCES locations(id),
  status TEXT NOT NULL,
  carrier TEXT NOT NULL DEFAULT '',
  service TEXT NOT NULL DEFAULT '',
  tracking_number TEXT NOT NULL DEFAULT '',
  handover_code TEXT NOT NULL DEFAULT '',
  ready_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (order_id, location_id)
);
CREATE INDEX shipments_location ON shipments(location_id, status);
CREATE INDEX shipments_tracking ON shipments(tracking_number) WHERE tracking_number <> '';

CREATE TABLE shipment_scans (
  shipment_id INTEGER NOT NULL REFERENCES shipments(id),
  sku TEXT NOT NULL,
  scanned INTEGER NOT NULL CHECK (scanned >= 0),
  PRIMARY KEY (shipment_id, sku)
) WITHOUT ROWID;

-- What carriers told about a shipment, each event once.
CREATE TABLE shipment_events (
  id INTEGER PRIMARY KEY,
  shipment_id INTEGER NOT NULL REFERENCES shipments(id),
  event_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events(shipment_id, id);

-- Products get barcodes (GTIN/EAN-13) and weights; locations a daily capacity (parcels a day,
-- 0: no limit).
ALTER TABLE variants ADD COLUMN barcode TEXT NOT NULL DEFAULT '';
ALTER TABLE variants ADD COLUMN weight_grams INTEGER NOT NULL DEFAULT 0;
CREATE INDEX variants_barcode ON variants(barcode) WHERE barcode <> '';
ALTER TABLE locations ADD COLUMN daily_capacity INTEGER NOT NULL DEFAULT 0;

-- A timeline entry may carry a message meant for the customer; the note is staff-only.
ALTER TABLE order_timeline ADD COLUMN public_note TEXT NOT NULL DEFAULT '';

-- Bank-transfer and card orders that wait for their money, by age (unpaid orders expire).
CREATE INDEX orders_awaiting_payment ON orders(created_ms)
  WHERE status = 'pending_payment' AND payment_method IN ('bank_transfer', 'card');
