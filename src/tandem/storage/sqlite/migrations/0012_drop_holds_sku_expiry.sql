-- Tandem schema, version 12: holds are no longer indexed by SKU and expiry. A decision about a SKU
-- gives back the expired holds of every SKU, oldest first, through holds_expiry (an expired hold
-- is expired whatever its SKU), so the index by SKU served no lookup on the flash sale's path and
-- cost it dearly: with 20 hot SKUs every commit rewrote about 21 of its pages (a fifth of the
-- commit's WAL frames), one at each SKU's oldest holds and one at its newest. Lookups of one SKU's
-- holds (a store's shortfall, `tandem check`) read the live holds whole: thousands during a flash
-- sale, off its path; the checks sum them in one grouped pass.
DROP INDEX holds_sku_expiry;
