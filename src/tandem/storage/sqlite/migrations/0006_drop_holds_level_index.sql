-- Tandem schema, version 6: holds(sku, location_id) duplicated holds_sku_expiry's first column;
-- every hold placed or released paid for both. Lookups by SKU and location (a stock conflict's
-- release of holds at one store, `tandem check`) now scan the SKU's live holds through
-- holds_sku_expiry: thousands for a hot SKU, but off the flash-sale path.
DROP INDEX holds_level;
