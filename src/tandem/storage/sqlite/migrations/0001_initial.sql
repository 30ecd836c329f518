-- Tandem schema, version 1: catalog, inventory, accounts, carts and orders.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE idempotency (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);

CREATE TABLE variants (
  sku TEXT PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products(id),
  price_amount INTEGER NOT NULL CHECK (price_amount > 0),
  currency TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '[]',
  image_url TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX variants_product ON variants(product_id, position);

CREATE VIRTUAL TABLE product_search USING fts5(
  name, description, category, variants_text,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE locations (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  latitude REAL NOT NULL DEFAULT 0,
  longitude REAL NOT NULL DEFAULT 0,
  ships_orders INTEGER NOT NULL,
  pickup INTEGER NOT NULL,
  sells_in_store INTEGER NOT NULL,
  safety_stock_default INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock_default >= 0)
);

CREATE TABLE stock_levels (
  sku TEXT NOT NULL REFERENCES variants(sku),
  location_id INTEGER NOT NULL REFERENCES locations(id),
  on_hand INTEGER NOT NULL DEFAULT 0,
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  allocated INTEGER NOT NULL DEFAULT 0 CHECK (allocated >= 0),
  safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
  PRIMARY KEY (sku, location_id)
) WITHOUT ROWID;
CREATE INDEX stock_levels_location ON stock_levels(location_id, sku);

-- The ledger is append-only: every change of on_hand is one row here.
CREATE TABLE movements (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL,
  location_id INTEGER NOT NULL,
  delta INTEGER NOT NULL CHECK (delta <> 0),
  reason TEXT NOT NULL,
  reference TEXT NOT NULL DEFAULT '',
  at_ms INTEGER NOT NULL
);
CREATE INDEX movements_level ON movements(sku, location_id, id);
CREATE TRIGGER movements_append_only_update BEFORE UPDATE ON movements
BEGIN SELECT RAISE(ABORT, 'the stock ledger is append-only'); END;
CREATE TRIGGER movements_append_only_delete BEFORE DELETE ON movements
BEGIN SELECT RAISE(ABORT, 'the stock ledger is append-only'); END;

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  phone TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  newsletter_opt_in INTEGER NOT NULL DEFAULT 0,
  consent_at_ms INTEGER NOT NULL DEFAULT 0,
  consent_source TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE carts (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL,
  customer_id INTEGER REFERENCES accounts(id),
  open INTEGER NOT NULL DEFAULT 1,
  fulfillment_method TEXT NOT NULL DEFAULT 'delivery',
  address TEXT,
  location_id INTEGER REFERENCES locations(id),
  service TEXT NOT NULL DEFAULT 'standard',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);

CREATE TABLE cart_lines (
  cart_id INTEGER NOT NULL REFERENCES carts(id),
  sku TEXT NOT NULL REFERENCES variants(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  position INTEGER NOT NULL,
  PRIMARY KEY (cart_id, sku)
) WITHOUT ROWID;

CREATE TABLE holds (
  id INTEGER PRIMARY KEY,
  cart_id INTEGER NOT NULL REFERENCES carts(id),
  sku TEXT NOT NULL,
  location_id INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  expires_ms INTEGER NOT NULL
);
CREATE INDEX holds_cart ON holds(cart_id);
CREATE INDEX holds_expiry ON holds(expires_ms);
CREATE INDEX holds_level ON holds(sku, location_id);

CREATE TABLE order_sequences (
  year INTEGER PRIMARY KEY,
  last INTEGER NOT NULL
);

CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  tracking_code TEXT NOT NULL UNIQUE,
  access_token_hash TEXT NOT NULL,
  customer_id INTEGER REFERENCES accounts(id),
  channel TEXT NOT NULL,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  status TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  fulfillment_method TEXT NOT NULL,
  address TEXT,
  location_id INTEGER REFERENCES locations(id),
  service TEXT NOT NULL,
  currency TEXT NOT NULL,
  subtotal INTEGER NOT NULL,
  discount INTEGER NOT NULL,
  shipping INTEGER NOT NULL,
  total INTEGER NOT NULL,
  newsletter_opt_in INTEGER NOT NULL,
  carrier TEXT NOT NULL DEFAULT '',
  tracking_number TEXT NOT NULL DEFAULT '',
  cart_id INTEGER NOT NULL REFERENCES carts(id),
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  CHECK (total = subtotal - discount + shipping)
);
CREATE INDEX orders_customer ON orders(customer_id, created_ms);
CREATE INDEX orders_email ON orders(email, created_ms);

CREATE TABLE order_lines (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  sku TEXT NOT NULL,
  product_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  options TEXT NOT NULL,
  image_url TEXT NOT NULL,
  unit_price INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  line_total INTEGER NOT NULL CHECK (line_total = unit_price * quantity)
);
CREATE INDEX order_lines_order ON order_lines(order_id);

CREATE TABLE order_timeline (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX order_timeline_order ON order_timeline(order_id, id);

CREATE TABLE order_links (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  related_id INTEGER NOT NULL REFERENCES orders(id),
  PRIMARY KEY (order_id, related_id)
) WITHOUT ROWID;

CREATE TABLE allocations (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  line_id INTEGER NOT NULL REFERENCES order_lines(id),
  sku TEXT NOT NULL,
  location_id INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  open INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX allocations_order ON allocations(order_id);
CREATE INDEX allocations_open_level ON allocations(sku, location_id) WHERE open = 1;

CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  method TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  verified_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE INDEX payments_order ON payments(order_id);
