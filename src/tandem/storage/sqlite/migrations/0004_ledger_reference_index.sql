-- Tandem schema, version 4: find ledger movements by reference (till events, orders, transfers)
-- without scanning the ledger; `tandem check` looks up every applied till event this way.
CREATE INDEX movements_reference ON movements(reference);
