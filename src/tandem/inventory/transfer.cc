#include "tandem/inventory/transfer.h"

#include "tandem/base/limits.h"

namespace tandem::inventory {

Result<Transfer> StartTransfer(InventoryStore& store, Transfer t, int64_t now_ms) {
  if (t.from_location_id == t.to_location_id) {
    return Status(Code::kInvalidArgument, "a transfer goes between two different locations");
  }
  if (t.quantity < 1 || t.quantity > kStockDeltaMax) {
    return Status(Code::kInvalidArgument,
                  "quantity must be between 1 and " + std::to_string(kStockDeltaMax));
  }
  std::optional<Location> from = store.FindLocation(t.from_location_id);
  std::optional<Location> to = store.FindLocation(t.to_location_id);
  if (!from || !to) return Status(Code::kNotFound, "no such location");
  store.EnsureLevel(t.sku, from->id, from->safety_stock_default);
  store.EnsureLevel(t.sku, to->id, to->safety_stock_default);
  t.status = "in_transit";
  t.created_ms = now_ms;
  t.id = store.InsertTransfer(t);
  Movement out{0, t.sku, from->id, -t.quantity, MovementReason::kTransferOut,
               "transfer " + std::to_string(t.id) + " to " + to->code, now_ms};
  if (store.RecordMovement(out, 0) == 0) {
    return Status(Code::kStockCommitted, from->name + " does not have " +
                                             std::to_string(t.quantity) +
                                             " units that are not held or allocated");
  }
  return t;
}

Result<Transfer> ReceiveTransfer(InventoryStore& store, int64_t transfer_id, int64_t now_ms) {
  std::optional<Transfer> t = store.FindTransfer(transfer_id);
  if (!t) return Status(Code::kNotFound, "no transfer " + std::to_string(transfer_id));
  if (!store.MarkTransferReceived(transfer_id, now_ms)) {
    return Status(Code::kConflict, "transfer " + std::to_string(transfer_id) + " was received already");
  }
  std::optional<Location> from = store.FindLocation(t->from_location_id);
  TANDEM_CHECK(from.has_value());
  Movement in{0, t->sku, t->to_location_id, t->quantity, MovementReason::kTransferIn,
              "transfer " + std::to_string(t->id) + " from " + from->code, now_ms};
  TANDEM_CHECK(store.RecordMovement(in, 0) != 0);
  t->status = "received";
  t->received_ms = now_ms;
  return *t;
}

}  // namespace tandem::inventory
