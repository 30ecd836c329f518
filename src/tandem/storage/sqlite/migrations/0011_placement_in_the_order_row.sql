-- Tandem schema, version 11: an order's first timeline entry, its placement (no status before it,
-- at the order's creation), is kept in the order's row: who placed it, the status it was placed
-- in and the note. It was a row of order_timeline with its index entry for every checkout: about
-- a tenth of the writer's time per checkout. Orders placed before keep that row (placed_by NULL).
ALTER TABLE orders ADD COLUMN placed_by TEXT;
ALTER TABLE orders ADD COLUMN placed_status TEXT;
ALTER TABLE orders ADD COLUMN placed_note TEXT;
