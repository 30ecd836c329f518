#include "tandem/inventory/inventory.h"

#include <algorithm>
#include <array>

#include "tandem/base/enum_names.h"
#include <utility>

namespace tandem::inventory {
namespace {

constexpr std::array<std::pair<LocationKind, std::string_view>, 3> kKindNames{{
    {LocationKind::kStore, "store"},
    {LocationKind::kWarehouse, "warehouse"},
    {LocationKind::kDistributionCentre, "distribution_centre"},
}};

constexpr std::array<std::pair<MovementReason, std::string_view>, 8> kReasonNames{{
    {MovementReason::kReceipt, "receipt"},
    {MovementReason::kSaleOnline, "sale_online"},
    {MovementReason::kSaleInStore, "sale_in_store"},
    {MovementReason::kReturn, "return"},
    {MovementReason::kAdjustment, "adjustment"},
    {MovementReason::kCountCorrection, "count_correction"},
    {MovementReason::kTransferOut, "transfer_out"},
    {MovementReason::kTransferIn, "transfer_in"},
}};

std::string Where(const LevelTotals& t) {
  return t.sku + " @ location " + std::to_string(t.location_id) + ": ";
}

}  // namespace

std::string_view LocationKindName(LocationKind kind) { return NameOf(kKindNames, kind); }
std::optional<LocationKind> ParseLocationKind(std::string_view name) {
  return ParseName(kKindNames, name);
}
std::string_view MovementReasonName(MovementReason reason) { return NameOf(kReasonNames, reason); }
std::optional<MovementReason> ParseMovementReason(std::string_view name) {
  return ParseName(kReasonNames, name);
}

std::vector<std::string> FindDiscrepancies(const std::vector<LevelTotals>& totals) {
  std::vector<std::string> out;
  for (const LevelTotals& t : totals) {
    if (!t.has_level) {
      out.push_back(Where(t) + "ledger, holds or allocations exist without a stock level");
      continue;
    }
    if (t.on_hand != t.ledger_sum) {
      out.push_back(Where(t) + "on_hand " + std::to_string(t.on_hand) + " != ledger sum " +
                    std::to_string(t.ledger_sum));
    }
    if (t.reserved != t.holds_sum) {
      out.push_back(Where(t) + "reserved " + std::to_string(t.reserved) + " != live holds " +
                    std::to_string(t.holds_sum));
    }
    if (t.allocated != t.allocations_sum) {
      out.push_back(Where(t) + "allocated " + std::to_string(t.allocated) +
                    " != open allocations " + std::to_string(t.allocations_sum));
    }
    // on_hand itself may be negative: a till sold units the books did not know of (a physical
    // fact, recorded as such; a count puts it right). Everything else must not be.
    if (t.reserved < 0 || t.allocated < 0 || t.safety_stock < 0) {
      out.push_back(Where(t) + "a counter is negative");
    }
    if (std::max<int64_t>(0, t.on_hand) < t.reserved + t.allocated) {
      out.push_back(Where(t) + "on_hand " + std::to_string(t.on_hand) +
                    " does not cover reserved + allocated " +
                    std::to_string(t.reserved + t.allocated));
    }
  }
  return out;
}

std::vector<std::string> FindEventDiscrepancies(const std::vector<EventTotals>& totals) {
  std::vector<std::string> out;
  for (const EventTotals& t : totals) {
    std::string where = "sale event " + std::to_string(t.event_id) + " " + t.sku + ": ";
    if (t.committed != t.holds_sum + t.allocations_sum) {
      out.push_back(where + "committed " + std::to_string(t.committed) + " != holds " +
                    std::to_string(t.holds_sum) + " + allocations " +
                    std::to_string(t.allocations_sum));
    }
    if (t.committed > t.ring_fenced) {
      out.push_back(where + "committed " + std::to_string(t.committed) + " exceeds ring-fenced " +
                    std::to_string(t.ring_fenced));
    }
  }
  return out;
}

}  // namespace tandem::inventory
