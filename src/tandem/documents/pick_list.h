// Pick lists: what staff at one location take off the shelves for one order or a wave of orders,
// grouped by SKU, printable on A4 (libharu). Pure functions; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tandem/base/result.h"

namespace tandem::documents {

// One order's units of one SKU.
struct PickItem {
  std::string order_number;
  std::string sku;
  std::string name;
  std::string options;  // "colour: navy, size: M"
  std::string barcode;  // GTIN/EAN-13; empty: not printed
  int64_t quantity = 0;
};

struct PickList {
  std::string number;         // e.g. "PL-2026-000042"; empty: not printed
  std::string location_name;  // "Store KL Central"
  int64_t created_at_ms = 0;
  int utc_offset_minutes = 0;  // the shop's time zone, for the printed time
  std::vector<PickItem> items;
};

// The units of one SKU to pick, over every order of the list.
struct PickLine {
  std::string sku;
  std::string name;  // of the SKU's first item
  std::string options;
  std::string barcode;
  int64_t quantity = 0;                                 // all orders together
  std::vector<std::pair<std::string, int64_t>> orders;  // order number → units, first seen first
};

// The items grouped by SKU, sorted by SKU; an order with several items of a SKU counts once
// with their sum.
std::vector<PickLine> GroupBySku(const std::vector<PickItem>& items);
// The distinct order numbers of the items, in order of first appearance.
std::vector<std::string> OrderNumbers(const std::vector<PickItem>& items);

// The pick list as a PDF file: its location, time and orders, then one row per SKU with a box to
// tick, the SKU and barcode, the name and options, the units per order and in all.
// kInvalidArgument when the location or an item's order number or SKU is empty or a quantity is
// not positive (nor above kLineQuantityMax); kLimitExceeded past kDocumentLinesMax items or
// kPickListOrdersMax orders; kInternal when the PDF library fails.
[[nodiscard]] Result<std::string> RenderPickListPdf(const PickList& list);

}  // namespace tandem::documents
