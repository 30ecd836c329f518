-- Tandem schema, version 7: a checked-out cart keeps its lines. Deleting them at checkout was the
-- flash sale's costliest statement after the order's insert: cart_lines is a window that slides
-- as carts come and go, so its pages kept emptying, merging and being freed. A closed cart is
-- read without its lines; open carts holding a SKU are found through this index of open carts
-- (as many entries as carts in progress) instead of by scanning every line.
CREATE INDEX carts_open ON carts(id) WHERE open = 1;
