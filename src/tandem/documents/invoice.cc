#include "tandem/documents/invoice.h"

#include <algorithm>

#include "tandem/base/limits.h"
#include "tandem/documents/format.h"
#include "tandem/documents/layout.h"
#include "tandem/documents/pdf.h"

namespace tandem::documents {
namespace {

constexpr float kMetaLabelX = kRight - 200;
constexpr int kNameLinesMax = 3;
constexpr int kOptionsLinesMax = 2;
constexpr int kNoteLinesMax = 12;

Status Invalid(const std::string& what) { return Status(Code::kInvalidArgument, what); }

Status CheckMoney(const Money& money, const std::string& currency, const char* field,
                  bool may_be_negative = false) {
  if (money.currency != currency) return Invalid(std::string(field) + " is not in " + currency);
  if (!may_be_negative && money.amount < 0) return Invalid(std::string(field) + " is negative");
  return Status::Ok();
}

Status Validate(const InvoiceDocument& doc) {
  const bool credit = doc.kind == DocumentKind::kCreditNote;
  if (doc.number.empty()) return Invalid("number is empty");
  if (credit && doc.invoice_number.empty()) return Invalid("invoice_number is empty");
  if (doc.seller.name.empty()) return Invalid("seller name is empty");
  if (doc.buyer.name.empty()) return Invalid("buyer name is empty");
  if (!IsCurrencyCode(doc.currency)) return Invalid("currency is not an ISO 4217 code");
  if (doc.utc_offset_minutes < -kTimezoneOffsetMinutesMax ||
      doc.utc_offset_minutes > kTimezoneOffsetMinutesMax) {
    return Invalid("utc_offset_minutes is out of range");
  }
  if (doc.lines.size() > size_t{kDocumentLinesMax}) {
    return Status(Code::kLimitExceeded, "more than " + std::to_string(kDocumentLinesMax) + " lines");
  }
  if (doc.seller.address_lines.size() > size_t{kDocumentAddressLinesMax} ||
      doc.buyer.address_lines.size() > size_t{kDocumentAddressLinesMax}) {
    return Status(Code::kLimitExceeded, "more than " + std::to_string(kDocumentAddressLinesMax) +
                                            " address lines");
  }
  Money sum{0, doc.currency};
  for (const InvoiceLine& line : doc.lines) {
    TANDEM_RETURN_IF_ERROR(CheckMoney(line.unit_price, doc.currency, "unit_price"));
    TANDEM_RETURN_IF_ERROR(CheckMoney(line.line_total, doc.currency, "line_total"));
    if (line.quantity < 1 || line.quantity > kLineQuantityMax) {
      return Invalid("quantity of " + line.sku + " is out of range");
    }
    Result<Money> product = MultiplyMoney(line.unit_price, line.quantity);
    if (!product.ok() || product.value() != line.line_total) {
      return Invalid("line_total of " + line.sku + " is not unit_price × quantity");
    }
    Result<Money> added = AddMoney(sum, line.line_total);
    if (!added.ok()) return added.status();
    sum = added.value();
  }
  TANDEM_RETURN_IF_ERROR(CheckMoney(doc.subtotal, doc.currency, "subtotal"));
  TANDEM_RETURN_IF_ERROR(CheckMoney(doc.discount, doc.currency, "discount"));
  TANDEM_RETURN_IF_ERROR(CheckMoney(doc.shipping, doc.currency, "shipping"));
  TANDEM_RETURN_IF_ERROR(CheckMoney(doc.total, doc.currency, "total"));
  TANDEM_RETURN_IF_ERROR(CheckMoney(doc.tax_contained, doc.currency, "tax_contained"));
  if (sum != doc.subtotal) return Invalid("subtotal is not the sum of the line totals");
  int64_t total = 0;
  if (__builtin_sub_overflow(doc.subtotal.amount, doc.discount.amount, &total) ||
      __builtin_add_overflow(total, doc.shipping.amount, &total) || total != doc.total.amount) {
    return Invalid("total is not subtotal - discount + shipping");
  }
  if (doc.tax_rate_basis_points < 0 || doc.tax_rate_basis_points > kTaxRateBasisPointsMax) {
    return Invalid("tax_rate_basis_points is out of range");
  }
  if (doc.tax_contained.amount > doc.total.amount) return Invalid("tax_contained exceeds total");
  return Status::Ok();
}

// Draws `doc` into a Pdf, page by page.
class InvoiceRenderer {
 public:
  explicit InvoiceRenderer(const InvoiceDocument& doc)
      : doc_(doc),
        credit_(doc.kind == DocumentKind::kCreditNote),
        pdf_((credit_ ? "Credit note " : "Invoice ") + doc.number) {
    columns_ = {Column{kLeft + 6, 318, Align::kLeft}, Column{330, 368, Align::kRight},
                Column{380, 455, Align::kRight}, Column{465, kRight - 6, Align::kRight}};
  }

  Result<std::string> Render() {
    Cursor cursor = FirstPage();
    std::vector<TableRow> rows;
    rows.reserve(doc_.lines.size());
    for (const InvoiceLine& line : doc_.lines) rows.push_back(LineRow(line));
    DrawRows(pdf_, columns_, rows, &cursor, [this] { return NextPage(/*table_header=*/true); });
    DrawTotals(&cursor);
    std::string footer = doc_.seller.name;
    if (!doc_.seller.registration.empty()) footer += "  ·  " + doc_.seller.registration;
    if (!doc_.seller.email.empty()) footer += "  ·  " + doc_.seller.email;
    DrawFooters(pdf_, footer);
    return pdf_.Finish();
  }

 private:
  std::string Title() const { return credit_ ? "Credit note" : "Invoice"; }

  Cursor FirstPage() {
    Cursor cursor{pdf_.AddPage(), kTop, true};
    const int page = cursor.page;

    // Seller, top left.
    const Column seller{kLeft, kMetaLabelX - 20};
    std::vector<TextLine> lines = WrapLines(pdf_, doc_.seller.name, seller, Font::kBold, 14, kInk, 2);
    for (const std::string& text : doc_.seller.address_lines) {
      Append(&lines, WrapLines(pdf_, text, seller, Font::kRegular, 8.5f, kMuted, 2));
    }
    if (!doc_.seller.registration.empty()) {
      Append(&lines, WrapLines(pdf_, "Company no. " + doc_.seller.registration, seller,
                               Font::kRegular, 8.5f, kMuted, 2));
    }
    if (!doc_.seller.tax_registration.empty()) {
      Append(&lines, WrapLines(pdf_, doc_.tax_name + " reg. no. " + doc_.seller.tax_registration,
                               seller, Font::kRegular, 8.5f, kMuted, 2));
    }
    Append(&lines, WrapLines(pdf_, doc_.seller.email, seller, Font::kRegular, 8.5f, kMuted, 1));
    const float seller_bottom = DrawLines(page, kLeft, kTop, lines);

    // Title and the document's numbers, top right.
    pdf_.Text(page, kRight, kTop - 20, Font::kBold, 22, kAccent, credit_ ? "CREDIT NOTE" : "INVOICE",
              Align::kRight);
    float y = kTop - 44;
    const auto meta = [&](const std::string& label, const std::string& value) {
      pdf_.Text(page, kMetaLabelX, y, Font::kRegular, 8.5f, kMuted, label);
      const Column value_column{kMetaLabelX + 70, kRight};
      const std::vector<std::string> fitted = pdf_.Wrap(
          value, Font::kBold, 8.5f, value_column.right - value_column.left, 1);
      if (!fitted.empty()) pdf_.Text(page, kRight, y, Font::kBold, 8.5f, kInk, fitted[0], Align::kRight);
      y -= 13;
    };
    meta(credit_ ? "Credit note no." : "Invoice no.", doc_.number);
    if (credit_) meta("For invoice", doc_.invoice_number);
    meta("Date", FormatDate(doc_.issued_at_ms, doc_.utc_offset_minutes));
    meta("Order", doc_.order_number);
    float top = std::min(seller_bottom, y) - 22;
    pdf_.Line(page, kLeft, top + 10, kRight, top + 10, 0.5f, kRule);

    // Buyer on the left, payment on the right.
    const Column buyer{kLeft, kMetaLabelX - 20};
    lines = {TextLine{credit_ ? "CREDITED TO" : "BILL TO", Font::kBold, 7.5f, kMuted}};
    Append(&lines, WrapLines(pdf_, doc_.buyer.name, buyer, Font::kBold, 10, kInk, 2));
    Append(&lines, WrapLines(pdf_, doc_.buyer.company, buyer, Font::kRegular, 9, kInk, 2));
    for (const std::string& text : doc_.buyer.address_lines) {
      Append(&lines, WrapLines(pdf_, text, buyer, Font::kRegular, 9, kInk, 2));
    }
    Append(&lines, WrapLines(pdf_, doc_.buyer.email, buyer, Font::kRegular, 9, kMuted, 1));
    float bottom = DrawLines(page, kLeft, top, lines);
    if (!doc_.payment_method.empty()) {
      const Column payment{kMetaLabelX, kRight};
      lines = {TextLine{credit_ ? "REFUNDED BY" : "PAYMENT", Font::kBold, 7.5f, kMuted}};
      Append(&lines, WrapLines(pdf_, doc_.payment_method, payment, Font::kRegular, 9, kInk, 3));
      bottom = std::min(bottom, DrawLines(page, kMetaLabelX, top, lines));
    }
    cursor.y = bottom - 20;
    TableHeader(&cursor);
    return cursor;
  }

  Cursor NextPage(bool table_header) {
    Cursor cursor{pdf_.AddPage(), kTop, true};
    pdf_.Text(cursor.page, kLeft, kTop - 10, Font::kBold, 10, kInk, doc_.seller.name);
    pdf_.Text(cursor.page, kRight, kTop - 10, Font::kRegular, 9, kMuted,
              Title() + " " + doc_.number + " (continued)", Align::kRight);
    cursor.y = kTop - 28;
    if (table_header) TableHeader(&cursor);
    return cursor;
  }

  void TableHeader(Cursor* cursor) {
    DrawTableHeader(pdf_, columns_, {"ITEM", "QTY", "UNIT PRICE", "AMOUNT"}, cursor);
  }

  TableRow LineRow(const InvoiceLine& line) const {
    TableRow row;
    std::vector<TextLine> item =
        WrapLines(pdf_, line.name, columns_[0], Font::kRegular, 9.5f, kInk, kNameLinesMax);
    Append(&item, WrapLines(pdf_, line.options, columns_[0], Font::kRegular, 8, kMuted,
                            kOptionsLinesMax));
    if (!line.sku.empty()) {
      Append(&item, WrapLines(pdf_, "SKU " + line.sku, columns_[0], Font::kRegular, 7.5f, kMuted, 1));
    }
    row.cells = {std::move(item),
                 {TextLine{std::to_string(line.quantity), Font::kRegular, 9.5f, kInk}},
                 {TextLine{FormatMoney(line.unit_price), Font::kRegular, 9.5f, kInk}},
                 {TextLine{FormatMoney(line.line_total), Font::kRegular, 9.5f, kInk}}};
    return row;
  }

  void DrawTotals(Cursor* cursor) {
    struct Amount {
      std::string label;
      std::string value;
      bool strong = false;
    };
    std::vector<Amount> amounts = {{"Subtotal", FormatMoney(doc_.subtotal)}};
    if (doc_.discount.amount != 0) {
      amounts.push_back({"Discount", FormatMoney(Money{-doc_.discount.amount, doc_.currency})});
    }
    amounts.push_back({"Shipping", FormatMoney(doc_.shipping)});
    amounts.push_back({credit_ ? "Total refunded" : "Total", FormatMoney(doc_.total), true});
    std::string tax_line;
    if (doc_.tax_rate_basis_points > 0) {
      tax_line = std::string(credit_ ? "Refund includes " : "Prices include ") + doc_.tax_name +
                 " " + FormatRate(doc_.tax_rate_basis_points) + ": " +
                 FormatMoney(doc_.tax_contained);
    }
    const Column note{kLeft, kMetaLabelX - 30};
    std::vector<TextLine> note_lines;
    if (!doc_.note.empty()) {
      note_lines = {TextLine{"NOTE", Font::kBold, 7.5f, kMuted}};
      Append(&note_lines, WrapLines(pdf_, doc_.note, note, Font::kRegular, 8.5f, kInk, kNoteLinesMax));
    }
    constexpr float kRowHeight = 16;
    const float totals_height = 14 + kRowHeight * static_cast<float>(amounts.size()) + 8 + 20;
    float note_height = 14;
    for (const TextLine& line : note_lines) note_height += line.size * kLineAdvance;
    if (cursor->y - std::max(totals_height, note_height) < kFooterTop) {
      *cursor = NextPage(/*table_header=*/false);
    }
    const float top = cursor->y - 14;
    float y = top;
    for (const Amount& amount : amounts) {
      if (amount.strong) {
        pdf_.Line(cursor->page, kMetaLabelX, y + 4, kRight, y + 4, 0.8f, kInk);
        y -= 6;
      }
      const Font font = amount.strong ? Font::kBold : Font::kRegular;
      const float size = amount.strong ? 11 : 9.5f;
      pdf_.Text(cursor->page, kMetaLabelX, y - size, font, size, amount.strong ? kInk : kMuted,
                amount.label);
      pdf_.Text(cursor->page, kRight - 6, y - size, font, size, kInk, amount.value, Align::kRight);
      y -= kRowHeight;
    }
    if (!tax_line.empty()) {
      pdf_.Text(cursor->page, kRight - 6, y - 10, Font::kRegular, 8, kMuted, tax_line,
                Align::kRight);
      y -= 16;
    }
    const float note_bottom = DrawLines(cursor->page, kLeft, top, note_lines);
    cursor->y = std::min(y, note_bottom);
    cursor->fresh = false;
  }

  // Draws lines top-down from `top` at `x`; returns the y below the last.
  float DrawLines(int page, float x, float top, const std::vector<TextLine>& lines) {
    for (const TextLine& line : lines) {
      pdf_.Text(page, x, top - line.size * 0.95f, line.font, line.size, line.color, line.text);
      top -= line.size * kLineAdvance + (line.font == Font::kBold && line.size >= 10 ? 2 : 0);
    }
    return top;
  }

  static void Append(std::vector<TextLine>* to, std::vector<TextLine> more) {
    for (TextLine& line : more) to->push_back(std::move(line));
  }

  const InvoiceDocument& doc_;
  const bool credit_;
  Pdf pdf_;
  std::vector<Column> columns_;
};

}  // namespace

Result<std::string> RenderInvoicePdf(const InvoiceDocument& doc) {
  TANDEM_RETURN_IF_ERROR(Validate(doc));
  return InvoiceRenderer(doc).Render();
}

}  // namespace tandem::documents
