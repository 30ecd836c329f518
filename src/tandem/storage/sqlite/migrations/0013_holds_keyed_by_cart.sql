-- Tandem schema, version 13: a hold's id carries its cart: cart_id * 2^20 + the hold's number in
-- the cart (1, 2, ...; kHoldsPerCartMax). A cart's holds are the range of ids that starts at
-- cart_id * 2^20, read from the table itself, so the index holds_cart goes: every hold placed
-- and every hold deleted (each checkout deletes its cart's) wrote one b-tree fewer.
CREATE TEMP TABLE holds_renumbered AS
  SELECT cart_id * 1048576 + ROW_NUMBER() OVER (PARTITION BY cart_id ORDER BY id) AS id, cart_id,
         sku, location_id, quantity, expires_ms, event_id
  FROM holds;
DELETE FROM holds;
INSERT INTO holds (id, cart_id, sku, location_id, quantity, expires_ms, event_id)
  SELECT id, cart_id, sku, location_id, quantity, expires_ms, event_id FROM holds_renumbered;
DROP TABLE holds_renumbered;
DROP INDEX holds_cart;
