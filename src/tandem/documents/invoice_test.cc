#include "tandem/documents/invoice.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tandem/base/limits.h"
#include "tandem/documents/format.h"
#include "tandem/documents/tax.h"
#include "testing/pdf_text.h"

namespace tandem::documents {
namespace {

using ::tandem::testing::CountOf;
using ::tandem::testing::ReadPdf;

constexpr int64_t k2026_03_12_1630Z = 1773333000000;

Money Myr(int64_t amount) { return Money{amount, "MYR"}; }

std::string ItemName(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "Linen shirt %03d", i);
  return name;
}

// An invoice with `lines` lines whose amounts add up, RM 5.00 off and RM 8.00 shipping.
InvoiceDocument SampleInvoice(int lines) {
  InvoiceDocument doc;
  doc.number = "INV-2026-000001";
  doc.issued_at_ms = k2026_03_12_1630Z;
  doc.utc_offset_minutes = 8 * 60;
  doc.order_number = "TD-2026-000123";
  doc.seller = Seller{"Kedai Tandem Sdn. Bhd.",
                      {"12 Jalan Bukit Bintang", "55100 Kuala Lumpur", "Malaysia"},
                      "202401012345 (1234567-A)",
                      "W10-1808-32000123",
                      "billing@kedai.example"};
  doc.buyer = Buyer{"Aisyah binti Rahman",
                    "Rahman Trading",
                    {"8 Lorong Maarof", "59000 Bangsar, Kuala Lumpur"},
                    "aisyah@mail.example"};
  doc.currency = "MYR";
  int64_t subtotal = 0;
  for (int i = 1; i <= lines; ++i) {
    InvoiceLine line;
    line.name = ItemName(i);
    line.options = "colour: navy, size: " + std::string(i % 2 == 0 ? "M" : "L");
    line.sku = "SHIRT-" + std::to_string(i);
    line.quantity = i % 3 + 1;
    line.unit_price = Myr(4990 + i);
    line.line_total = Myr(line.unit_price.amount * line.quantity);
    subtotal += line.line_total.amount;
    doc.lines.push_back(line);
  }
  doc.subtotal = Myr(subtotal);
  doc.discount = Myr(500);
  doc.shipping = Myr(800);
  doc.total = Myr(subtotal - 500 + 800);
  doc.tax_rate_basis_points = 600;
  doc.tax_contained = TaxContained(doc.total, 600);
  doc.payment_method = "Bank transfer, verified 12 Mar 2026";
  doc.note = "Thank you for shopping with us.";
  return doc;
}

TEST(RenderInvoicePdf, PrintsTheNumberPartiesLinesTotalsAndTax) {
  const InvoiceDocument doc = SampleInvoice(3);
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  EXPECT_EQ(pdf.value().rfind("%PDF-", 0), 0u);
  const auto read = ReadPdf(pdf.value(), "invoice.pdf");
  const std::string& text = read.text;
  EXPECT_EQ(read.pages, 1);
  for (const char* expected :
       {"INVOICE", "INV-2026-000001", "13 Mar 2026", "TD-2026-000123", "Kedai Tandem Sdn. Bhd.",
        "12 Jalan Bukit Bintang", "202401012345 (1234567-A)", "SST reg. no. W10-1808-32000123",
        "billing@kedai.example", "Aisyah binti Rahman", "Rahman Trading", "8 Lorong Maarof",
        "aisyah@mail.example", "Bank transfer, verified 12 Mar 2026",
        "Thank you for shopping with us.", "Page 1 of 1"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " missing from:\n" << text;
  }
  for (const InvoiceLine& line : doc.lines) {
    EXPECT_EQ(CountOf(text, line.name), 1) << line.name;
    EXPECT_NE(text.find(line.options), std::string::npos) << line.options;
    EXPECT_NE(text.find("SKU " + line.sku), std::string::npos) << line.sku;
    EXPECT_NE(text.find(FormatMoney(line.unit_price)), std::string::npos);
    EXPECT_NE(text.find(FormatMoney(line.line_total)), std::string::npos);
  }
  // Lines 1..3: 2 × RM 49.91, 3 × RM 49.92, 1 × RM 49.93 = RM 299.51.
  EXPECT_NE(text.find("RM 299.51"), std::string::npos) << text;  // subtotal
  EXPECT_NE(text.find("-RM 5.00"), std::string::npos);           // discount
  EXPECT_NE(text.find("RM 8.00"), std::string::npos);            // shipping
  EXPECT_NE(text.find("RM 302.51"), std::string::npos);          // total
  // 30251 × 600 / 10600 = 1712.3
  EXPECT_NE(text.find("Prices include SST 6%: RM 17.12"), std::string::npos) << text;
  // The lines keep their order.
  EXPECT_LT(text.find(ItemName(1)), text.find(ItemName(2)));
  EXPECT_LT(text.find(ItemName(2)), text.find(ItemName(3)));
}

TEST(RenderInvoicePdf, FlowsTwoHundredLinesOntoPagesWithTheHeaderRepeated) {
  const InvoiceDocument doc = SampleInvoice(200);
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const auto read = ReadPdf(pdf.value(), "invoice-200.pdf");
  const std::string& text = read.text;
  ASSERT_GE(read.pages, 5);
  EXPECT_EQ(CountOf(text, "\f"), read.pages);
  size_t previous = 0;
  for (int i = 1; i <= 200; ++i) {
    const std::string name = ItemName(i);
    EXPECT_EQ(CountOf(text, name), 1) << name << " is not printed exactly once";
    const size_t at = text.find(name);
    EXPECT_GT(at, previous) << name << " is out of order";
    previous = at;
  }
  EXPECT_EQ(CountOf(text, "(continued)"), read.pages - 1);
  EXPECT_GE(CountOf(text, "UNIT PRICE"), read.pages - 1);  // the last page may hold only totals
  const std::string last = "Page " + std::to_string(read.pages) + " of " + std::to_string(read.pages);
  EXPECT_NE(text.find(last), std::string::npos);
  EXPECT_NE(text.find("Prices include SST 6%: " + FormatMoney(doc.tax_contained)),
            std::string::npos);
  EXPECT_NE(text.find(FormatMoney(doc.total)), std::string::npos);
}

TEST(RenderInvoicePdf, PrintsACreditNoteForItsInvoice) {
  InvoiceDocument doc = SampleInvoice(1);
  doc.kind = DocumentKind::kCreditNote;
  doc.number = "CN-2026-000001";
  doc.invoice_number = "INV-2026-000001";
  doc.discount = Myr(0);
  doc.shipping = Myr(0);
  doc.total = doc.subtotal;  // 2 × RM 49.91
  doc.tax_contained = TaxContained(doc.total, 600);
  doc.payment_method = "Refund to bank account";
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const std::string text = ReadPdf(pdf.value(), "credit-note.pdf").text;
  for (const char* expected :
       {"CREDIT NOTE", "CN-2026-000001", "For invoice", "INV-2026-000001", "CREDITED TO",
        "Linen shirt 001", "Total refunded", "RM 99.82", "Refund includes SST 6%: RM 5.65"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " missing from:\n" << text;
  }
  EXPECT_EQ(text.find("Discount"), std::string::npos);  // nothing off: no discount line
  EXPECT_EQ(text.find("Prices include"), std::string::npos);
}

TEST(RenderInvoicePdf, ReplacesCharactersOutsideLatin1WithQuestionMarks) {
  InvoiceDocument doc = SampleInvoice(1);
  doc.lines[0].name = "Caf\xC3\xA9 cr\xC3\xA8me \xE2\x80\x94 \xC3\xA9" "dition \xF0\x9F\x8E\x89 "
                      "\xE9\x99\x90\xE5\xAE\x9A";
  doc.buyer.name = "Zo\xC3\xAB \xE2\x80\x9CZ\xE2\x80\x9D M\xC3\xBCller";
  doc.note = std::string("bad bytes \xFF\xC3 and a NUL \0 here", 29);
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const std::string text = ReadPdf(pdf.value(), "invoice-latin1.pdf").text;
  EXPECT_NE(text.find("Caf\xC3\xA9 cr\xC3\xA8me \xE2\x80\x94 \xC3\xA9" "dition ? ??"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Zo\xC3\xAB \xE2\x80\x9CZ\xE2\x80\x9D M\xC3\xBCller"), std::string::npos);
  EXPECT_NE(text.find("bad bytes ?? and a NUL"), std::string::npos) << text;
}

TEST(RenderInvoicePdf, WrapsALongNameAndCutsItAfterThreeLines) {
  InvoiceDocument doc = SampleInvoice(1);
  std::string name = "Start";
  for (int i = 0; i < 80; ++i) name += " word" + std::to_string(i);
  name += " Finish";
  doc.lines[0].name = name;
  doc.lines[0].options = std::string(300, 'x');  // one word wider than the column
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const std::string text = ReadPdf(pdf.value(), "invoice-long-name.pdf").text;
  EXPECT_NE(text.find("Start word0 word1"), std::string::npos);
  EXPECT_EQ(text.find("Finish"), std::string::npos);
  EXPECT_NE(text.find("\xE2\x80\xA6"), std::string::npos) << "no ellipsis in:\n" << text;
  EXPECT_NE(text.find("xxxxxxxxxx"), std::string::npos);
  EXPECT_NE(text.find("RM 49.91"), std::string::npos);  // the amounts are still in their columns
}

TEST(RenderInvoicePdf, RendersTheMostLinesAndRefusesOneMore) {
  InvoiceDocument doc = SampleInvoice(kDocumentLinesMax);
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  EXPECT_GT(ReadPdf(pdf.value(), "invoice-most.pdf").pages, 20);

  doc = SampleInvoice(kDocumentLinesMax + 1);
  pdf = RenderInvoicePdf(doc);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kLimitExceeded);
}

TEST(RenderInvoicePdf, RefusesAmountsThatDoNotAddUp) {
  const InvoiceDocument good = SampleInvoice(2);
  const auto refused = [](const InvoiceDocument& doc) {
    Result<std::string> pdf = RenderInvoicePdf(doc);
    return !pdf.ok() && pdf.status().code() == Code::kInvalidArgument;
  };
  ASSERT_TRUE(RenderInvoicePdf(good).ok());
  InvoiceDocument doc = good;
  doc.lines[0].line_total.amount += 1;
  EXPECT_TRUE(refused(doc)) << "line total";
  doc = good;
  doc.subtotal.amount += 1;
  doc.total.amount += 1;
  EXPECT_TRUE(refused(doc)) << "subtotal";
  doc = good;
  doc.total.amount -= 1;
  EXPECT_TRUE(refused(doc)) << "total";
  doc = good;
  doc.shipping.currency = "SGD";
  EXPECT_TRUE(refused(doc)) << "currency";
  doc = good;
  doc.tax_contained = Myr(doc.total.amount + 1);
  EXPECT_TRUE(refused(doc)) << "tax";
  doc = good;
  doc.tax_rate_basis_points = kTaxRateBasisPointsMax + 1;
  EXPECT_TRUE(refused(doc)) << "rate";
  doc = good;
  doc.lines[1].quantity = 0;
  doc.lines[1].line_total = Myr(0);
  EXPECT_TRUE(refused(doc)) << "quantity";
  doc = good;
  doc.kind = DocumentKind::kCreditNote;
  EXPECT_TRUE(refused(doc)) << "a credit note without its invoice";
  doc = good;
  doc.utc_offset_minutes = kTimezoneOffsetMinutesMax + 1;
  EXPECT_TRUE(refused(doc)) << "offset";
  doc = good;
  doc.number.clear();
  EXPECT_TRUE(refused(doc)) << "number";
}

TEST(RenderInvoicePdf, RefusesMoreAddressLinesThanTheLimit) {
  InvoiceDocument doc = SampleInvoice(1);
  doc.buyer.address_lines.assign(kDocumentAddressLinesMax, "line");
  ASSERT_TRUE(RenderInvoicePdf(doc).ok());
  doc.buyer.address_lines.push_back("one more");
  Result<std::string> pdf = RenderInvoicePdf(doc);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kLimitExceeded);
}

}  // namespace
}  // namespace tandem::documents
