// Transfers of stock between locations: a transfer_out movement at the sender when it leaves, the
// units are in transit, a transfer_in movement at the receiver when they arrive.
// Functions run inside the caller's transaction.
#pragma once

#include "tandem/base/result.h"
#include "tandem/inventory/inventory.h"

namespace tandem::inventory {

// kInvalidArgument (same location, quantity), kNotFound (location), kStockCommitted (the sender's
// on hand would no longer cover its holds and allocations). The caller checked the SKU exists.
Result<Transfer> StartTransfer(InventoryStore& store, Transfer transfer, int64_t now_ms);
// kNotFound, kConflict when it was received already.
Result<Transfer> ReceiveTransfer(InventoryStore& store, int64_t transfer_id, int64_t now_ms);

}  // namespace tandem::inventory
