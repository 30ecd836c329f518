// Stock adjustments and receipts entered by staff: each becomes one ledger movement.
// Runs inside the caller's transaction; no state of its own.
#pragma once

#include "tandem/base/result.h"
#include "tandem/inventory/inventory.h"

namespace tandem::inventory {

struct AdjustmentRequest {
  std::string sku;
  int64_t location_id = 0;
  int64_t delta = 0;
  MovementReason reason = MovementReason::kAdjustment;
  std::string note;
};

struct AdjustmentResult {
  Movement movement;
  StockLevel level;
};

// kInvalidArgument (zero or huge delta, a reason staff may not use), kNotFound (location),
// kStockCommitted (the drop would leave reserved + allocated uncovered). The caller has checked
// that the SKU exists.
Result<AdjustmentResult> Adjust(InventoryStore& store, const AdjustmentRequest& request,
                                int64_t now_ms);

}  // namespace tandem::inventory
