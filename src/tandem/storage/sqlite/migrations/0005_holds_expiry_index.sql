-- Tandem schema, version 5: the allocator releases a SKU's expired holds before every decision;
-- with thousands of carts holding a hot SKU that lookup must not scan them all.
CREATE INDEX holds_sku_expiry ON holds(sku, expires_ms);
