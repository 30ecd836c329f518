// Invoices and credit notes as printable A4 PDF files (libharu). The numbering, the data and
// where the file goes are the caller's; this draws what it is given after checking that it adds
// up. Pure functions of their input; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/money.h"
#include "tandem/base/result.h"

namespace tandem::documents {

enum class DocumentKind { kInvoice, kCreditNote };

struct Seller {
  std::string name;
  std::vector<std::string> address_lines;
  std::string registration;      // company registration number; empty: not printed
  std::string tax_registration;  // e.g. the SST registration number; empty: not printed
  std::string email;
};

struct Buyer {
  std::string name;
  std::string company;  // empty: not printed
  std::vector<std::string> address_lines;
  std::string email;
};

struct InvoiceLine {
  std::string name;
  std::string options;  // "colour: navy, size: M"; empty: not printed
  std::string sku;
  int64_t quantity = 0;
  Money unit_price;
  Money line_total;  // unit_price × quantity, exactly
};

// One invoice or credit note. In a credit note every amount is what is refunded, as a positive
// number: the lines given back, their subtotal, discount, shipping refunded and the total
// refunded, and the tax contained in that total.
struct InvoiceDocument {
  DocumentKind kind = DocumentKind::kInvoice;
  std::string number;          // "INV-2026-000001" / "CN-2026-000001"
  std::string invoice_number;  // a credit note's invoice; unused for an invoice
  int64_t issued_at_ms = 0;    // ms since the epoch
  int utc_offset_minutes = 0;  // the shop's time zone, for the printed date (+480 in Malaysia)
  std::string order_number;
  Seller seller;
  Buyer buyer;
  std::string currency;  // "MYR"; every Money below is in it
  std::vector<InvoiceLine> lines;
  Money subtotal;  // sum of the line totals
  Money discount;  // >= 0, subtracted
  Money shipping;
  Money total;  // subtotal − discount + shipping
  std::string tax_name = "SST";
  int tax_rate_basis_points = 0;  // 600 = 6 %; 0: no tax line
  Money tax_contained;            // tax inside `total` (TaxContained in tax.h)
  std::string payment_method;     // "Bank transfer, verified 12 Mar 2026"; empty: not printed
  std::string note;               // empty: not printed
};

// The document as a PDF file. kInvalidArgument when a required field is empty, a currency
// differs, an amount is negative, or the amounts do not add up (line totals, subtotal, total,
// tax); kLimitExceeded past kDocumentLinesMax lines or kDocumentAddressLinesMax address lines;
// kInternal when the PDF library fails. Text outside Latin-1 (and WinAnsi) prints as '?'.
[[nodiscard]] Result<std::string> RenderInvoicePdf(const InvoiceDocument& doc);

}  // namespace tandem::documents
