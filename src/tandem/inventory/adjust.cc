#include "tandem/inventory/adjust.h"

#include <cstdlib>

#include "tandem/base/limits.h"

namespace tandem::inventory {

Result<AdjustmentResult> Adjust(InventoryStore& store, const AdjustmentRequest& request,
                                int64_t now_ms) {
  if (request.delta == 0 || std::llabs(request.delta) > kStockDeltaMax) {
    return Status(Code::kInvalidArgument,
                  "delta must be non-zero and at most " + std::to_string(kStockDeltaMax));
  }
  switch (request.reason) {
    case MovementReason::kReceipt:
    case MovementReason::kReturn:
      if (request.delta < 0) {
        return Status(Code::kInvalidArgument, "a receipt or return adds stock: delta must be > 0");
      }
      break;
    case MovementReason::kAdjustment:
    case MovementReason::kCountCorrection:
      break;
    case MovementReason::kSaleOnline:
    case MovementReason::kSaleInStore:
    case MovementReason::kTransferOut:
    case MovementReason::kTransferIn:
      return Status(Code::kInvalidArgument,
                    "reason must be receipt, return, adjustment or count_correction");
  }
  std::optional<Location> location = store.FindLocation(request.location_id);
  if (!location) {
    return Status(Code::kNotFound, "no location " + std::to_string(request.location_id));
  }
  store.EnsureLevel(request.sku, request.location_id, location->safety_stock_default);
  Movement m{0, request.sku, request.location_id, request.delta, request.reason, request.note,
             now_ms};
  m.id = store.RecordMovement(m, 0);
  if (m.id == 0) {
    return Status(Code::kStockCommitted,
                  "on hand would no longer cover units held in carts and allocated to orders");
  }
  std::optional<StockLevel> level = store.Level(request.sku, request.location_id);
  TANDEM_CHECK(level.has_value());
  return AdjustmentResult{m, *level};
}

}  // namespace tandem::inventory
