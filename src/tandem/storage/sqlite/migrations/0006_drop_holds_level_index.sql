-- Tandem schema, version 6: holds(sku, location_id) duplicated holds_sku_expiry's first column;
-- every hold placed or released paid for both. Lookups by SKU and location use holds_sku_expiry
-- (a SKU has few live holds at any location).
DROP INDEX holds_level;
