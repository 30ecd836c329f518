-- Tandem schema, version 9: open allocations are indexed by location and id (newest last), no
-- longer by SKU and location. Allocations stay open until they ship, hours after a flash sale, so
-- every hot SKU's entries sat on pages of their own and each commit wrote one page per SKU it
-- sold: a quarter of the WAL's frames under the flash sale. Now a commit appends to one page per
-- location. A store's shortfall finds its SKU's newest open allocations by walking the
-- location's backwards (the SKU is in the index, so no row is read until it matches).
DROP INDEX allocations_open_level;
CREATE INDEX allocations_open_at ON allocations(location_id, id, sku) WHERE open = 1;
