-- Tandem schema, version 10: orders are no longer indexed by e-mail. Its one reader linked a
-- guest's orders placed in a row; the writer now remembers the newest order of each e-mail
-- (recent_orders.h). Every checkout added an entry to this large index at a place of its own:
-- about a fifth of the writer's time under the flash sale.
DROP INDEX orders_email;
