#include "tandem/documents/pick_list.h"

#include <algorithm>
#include <map>

#include "tandem/base/limits.h"
#include "tandem/documents/format.h"
#include "tandem/documents/layout.h"
#include "tandem/documents/pdf.h"

namespace tandem::documents {
namespace {

Status Validate(const PickList& list) {
  if (list.location_name.empty()) return Status(Code::kInvalidArgument, "location is empty");
  if (list.utc_offset_minutes < -kTimezoneOffsetMinutesMax ||
      list.utc_offset_minutes > kTimezoneOffsetMinutesMax) {
    return Status(Code::kInvalidArgument, "utc_offset_minutes is out of range");
  }
  if (list.items.size() > size_t{kDocumentLinesMax}) {
    return Status(Code::kLimitExceeded, "more than " + std::to_string(kDocumentLinesMax) + " items");
  }
  for (const PickItem& item : list.items) {
    if (item.order_number.empty() || item.sku.empty()) {
      return Status(Code::kInvalidArgument, "an item has no order number or SKU");
    }
    if (item.quantity < 1 || item.quantity > kLineQuantityMax) {
      return Status(Code::kInvalidArgument, "quantity of " + item.sku + " is out of range");
    }
  }
  if (OrderNumbers(list.items).size() > size_t{kPickListOrdersMax}) {
    return Status(Code::kLimitExceeded,
                  "more than " + std::to_string(kPickListOrdersMax) + " orders");
  }
  return Status::Ok();
}

std::string Units(int64_t quantity) {
  return std::to_string(quantity) + (quantity == 1 ? " unit" : " units");
}

}  // namespace

std::vector<PickLine> GroupBySku(const std::vector<PickItem>& items) {
  std::map<std::string, PickLine> by_sku;
  for (const PickItem& item : items) {
    auto [it, inserted] = by_sku.try_emplace(item.sku);
    PickLine& line = it->second;
    if (inserted) line = PickLine{item.sku, item.name, item.options, item.barcode, 0, {}};
    line.quantity += item.quantity;
    auto order = std::find_if(line.orders.begin(), line.orders.end(),
                              [&](const auto& entry) { return entry.first == item.order_number; });
    if (order == line.orders.end()) {
      line.orders.emplace_back(item.order_number, item.quantity);
    } else {
      order->second += item.quantity;
    }
  }
  std::vector<PickLine> lines;
  lines.reserve(by_sku.size());
  for (auto& [sku, line] : by_sku) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> OrderNumbers(const std::vector<PickItem>& items) {
  std::vector<std::string> numbers;
  for (const PickItem& item : items) {
    if (std::find(numbers.begin(), numbers.end(), item.order_number) == numbers.end()) {
      numbers.push_back(item.order_number);
    }
  }
  return numbers;
}

Result<std::string> RenderPickListPdf(const PickList& list) {
  TANDEM_RETURN_IF_ERROR(Validate(list));
  const std::vector<PickLine> lines = GroupBySku(list.items);
  const std::vector<std::string> orders = OrderNumbers(list.items);
  int64_t units = 0;
  for (const PickLine& line : lines) units += line.quantity;

  Pdf pdf("Pick list " + list.location_name);
  const std::vector<Column> columns = {
      Column{kLeft + 6, kLeft + 18, Align::kLeft},  // the box to tick
      Column{kLeft + 26, 172, Align::kLeft},        // SKU and barcode
      Column{180, 350, Align::kLeft},               // name and options
      Column{358, 500, Align::kLeft},               // units per order
      Column{505, kRight - 6, Align::kRight}};      // units in all
  const std::vector<std::string> titles = {"", "SKU / BARCODE", "ITEM", "ORDERS", "QTY"};
  const std::string title = list.number.empty() ? "Pick list" : "Pick list " + list.number;

  Cursor cursor{pdf.AddPage(), kTop, true};
  pdf.Text(cursor.page, kLeft, kTop - 20, Font::kBold, 22, kAccent, "PICK LIST");
  if (!list.number.empty()) {
    pdf.Text(cursor.page, kRight, kTop - 20, Font::kBold, 11, kInk, list.number, Align::kRight);
  }
  const Column full{kLeft, kRight};
  float y = kTop - 34;
  for (const std::string& text : pdf.Wrap(list.location_name, Font::kBold, 13, kRight - kLeft, 2)) {
    pdf.Text(cursor.page, kLeft, y - 13, Font::kBold, 13, kInk, text);
    y -= 17;
  }
  pdf.Text(cursor.page, kLeft, y - 10, Font::kRegular, 9, kMuted,
           "Created " + FormatDateTime(list.created_at_ms, list.utc_offset_minutes) + "   ·   " +
               std::to_string(orders.size()) + (orders.size() == 1 ? " order" : " orders") +
               "   ·   " + std::to_string(lines.size()) + " SKUs   ·   " + Units(units));
  y -= 24;
  std::string order_text = "Orders: ";
  for (size_t i = 0; i < orders.size(); ++i) order_text += (i == 0 ? "" : ", ") + orders[i];
  // Every order is listed: kPickListOrdersMax bounds the lines.
  for (TextLine& line : WrapLines(pdf, order_text, full, Font::kRegular, 9, kInk, kPickListOrdersMax)) {
    pdf.Text(cursor.page, kLeft, y - 9, line.font, line.size, line.color, line.text);
    y -= 9 * kLineAdvance;
  }
  cursor.y = y - 12;
  DrawTableHeader(pdf, columns, titles, &cursor);

  const auto new_page = [&] {
    Cursor next{pdf.AddPage(), kTop, true};
    pdf.Text(next.page, kLeft, kTop - 10, Font::kBold, 10, kInk, list.location_name);
    pdf.Text(next.page, kRight, kTop - 10, Font::kRegular, 9, kMuted, title + " (continued)",
             Align::kRight);
    next.y = kTop - 28;
    DrawTableHeader(pdf, columns, titles, &next);
    return next;
  };
  std::vector<TableRow> rows;
  rows.reserve(lines.size());
  for (const PickLine& line : lines) {
    TableRow row;
    row.checkbox = true;
    row.repeated_cells = 3;  // box, SKU, name
    std::vector<TextLine> code = WrapLines(pdf, line.sku, columns[1], Font::kBold, 9, kInk, 2);
    for (TextLine& more : WrapLines(pdf, line.barcode, columns[1], Font::kRegular, 8, kMuted, 1)) {
      code.push_back(std::move(more));
    }
    std::vector<TextLine> item = WrapLines(pdf, line.name, columns[2], Font::kRegular, 9, kInk, 3);
    for (TextLine& more : WrapLines(pdf, line.options, columns[2], Font::kRegular, 8, kMuted, 2)) {
      item.push_back(std::move(more));
    }
    std::vector<TextLine> per_order;
    for (const auto& [number, quantity] : line.orders) {
      for (TextLine& more : WrapLines(pdf, number + " × " + std::to_string(quantity), columns[3],
                                      Font::kRegular, 8.5f, kInk, 2)) {
        per_order.push_back(std::move(more));
      }
    }
    row.cells = {{},
                 std::move(code),
                 std::move(item),
                 std::move(per_order),
                 {TextLine{std::to_string(line.quantity), Font::kBold, 11, kInk}}};
    rows.push_back(std::move(row));
  }
  DrawRows(pdf, columns, rows, &cursor, new_page);

  // Signatures under the table, on a new page when there is no room left.
  if (cursor.y - 50 < kFooterTop) cursor = new_page();
  const float sign_y = cursor.y - 40;
  pdf.Text(cursor.page, kLeft, sign_y, Font::kRegular, 8.5f, kMuted, "Picked by");
  pdf.Line(cursor.page, kLeft + 45, sign_y - 2, kLeft + 210, sign_y - 2, 0.5f, kMuted);
  pdf.Text(cursor.page, kLeft + 250, sign_y, Font::kRegular, 8.5f, kMuted, "Checked by");
  pdf.Line(cursor.page, kLeft + 300, sign_y - 2, kRight, sign_y - 2, 0.5f, kMuted);

  DrawFooters(pdf, title + "  ·  " + list.location_name);
  return pdf.Finish();
}

}  // namespace tandem::documents
