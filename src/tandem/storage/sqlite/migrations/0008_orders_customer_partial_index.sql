-- Tandem schema, version 8: guests' orders (no customer) leave the index of a customer's orders.
-- Every guest checkout added an entry that no lookup reads: a customer's orders are only ever
-- looked up by a customer id, which the partial index serves as before.
DROP INDEX orders_customer;
CREATE INDEX orders_customer ON orders(customer_id, created_ms) WHERE customer_id IS NOT NULL;
