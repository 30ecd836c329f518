// Payments, refunds, invoices, shipments and their webhooks: what happens after "order placed".
#include <sodium.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/crypto.h"
#include "tandem/base/file_type.h"
#include "tandem/base/limits.h"
#include "tandem/documents/invoice.h"
#include "tandem/documents/pick_list.h"
#include "tandem/documents/qr.h"
#include "tandem/documents/tax.h"
#include "tandem/payments/stripe_signature.h"

namespace tandem::api {
namespace {

using customers::Role;
using fulfillment::Shipment;
using payments::Payment;

constexpr std::initializer_list<Role> kPaymentStaff{Role::kAdmin, Role::kMerchant, Role::kOps};
constexpr std::initializer_list<Role> kRefundStaff{Role::kAdmin, Role::kMerchant};

std::string Iso(int64_t ms) { return FormatTimestamp(ms); }

Json PaymentJson(const Payment& p, bool for_staff) {
  Json proofs = Json::array();
  for (const payments::Proof& f : p.proofs) {
    proofs.push_back({{"id", f.id},
                      {"media_type", f.media_type},
                      {"bytes", f.bytes},
                      {"filename", f.filename},
                      {"sha256", f.sha256},
                      {"created_at", Iso(f.created_ms)}});
  }
  Json j{{"id", p.id},
         {"order_id", p.order_id},
         {"method", orders::PaymentMethodName(p.method)},
         {"amount", MoneyJson(p.amount)},
         {"refunded", MoneyJson({p.refunded, p.amount.currency})},
         {"state", payments::StateName(p.state)},
         {"reference", p.reference},
         {"reason", p.reason},
         {"proofs", std::move(proofs)},
         {"redirect_url", p.redirect_url.empty() ? Json(nullptr) : Json(p.redirect_url)},
         {"created_at", Iso(p.created_ms)},
         {"updated_at", Iso(p.updated_ms)}};
  if (for_staff) j["decided_by"] = p.decided_by;
  return j;
}

Json ShipmentJson(const Shipment& s, bool for_staff) {
  Json units = Json::array();
  for (const fulfillment::ShipmentUnit& u : s.units) {
    units.push_back({{"sku", u.sku},
                     {"name", u.name},
                     {"options", u.options},
                     {"barcode", u.barcode},
                     {"quantity", u.quantity},
                     {"scanned", u.scanned}});
  }
  Json j{{"id", s.id},
         {"order_id", s.order_id},
         {"order_number", s.order_number},
         {"location_id", s.location_id},
         {"location_name", s.location_name},
         {"status", fulfillment::ShipmentStatusName(s.status)},
         {"carrier", s.carrier},
         {"service", s.service},
         {"tracking_number", s.tracking_number},
         {"units", std::move(units)},
         {"created_at", Iso(s.created_ms)},
         {"updated_at", Iso(s.updated_ms)}};
  // The owner shows the hand-over code at the counter; staff must ask for it.
  if (!for_staff && s.status == fulfillment::ShipmentStatus::kReadyForPickup) {
    j["handover_code"] = s.handover_code;
  }
  return j;
}

std::string PaymentMethodText(orders::PaymentMethod m) {
  switch (m) {
    case orders::PaymentMethod::kCashOnDelivery: return "Cash on delivery";
    case orders::PaymentMethod::kBankTransfer: return "Bank transfer";
    case orders::PaymentMethod::kCard: return "Card";
    case orders::PaymentMethod::kCashInStore: return "Cash in store";
  }
  return "";
}

Json InvoiceJson(const payments::Invoice& i) {
  return {{"id", i.id},
          {"kind", payments::DocumentKindName(i.kind)},
          {"number", i.number},
          {"amount", MoneyJson(i.amount)},
          {"refund_id", i.refund_id ? Json(*i.refund_id) : Json(nullptr)},
          {"created_at", Iso(i.created_ms)}};
}

// The domain contexts of one transaction; the inner ones point at the outer, so it stays put.
struct Domain {
  orders::OrderContext order;
  payments::PaymentContext pay;
  fulfillment::FulfillmentContext ful;
  Domain(ApiContext& ctx, storage::Tx& tx, const std::string& actor)
      : order(MakeOrderContext(ctx, tx, actor)),
        pay{order, tx.payments(), tx.notify(), ctx.options.seller, {}},
        ful{pay, tx.fulfillment()} {
    pay.on_paid = [this](const orders::Order& o) { return fulfillment::OpenShipments(ful, o); };
  }
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;
};

// Who may see or pay for an order: staff, its customer, or whoever holds its link (?token=).
// Others learn nothing (404); anonymous callers without a token are asked to log in (401).
Result<orders::Order> AuthorizeOrderAccess(storage::Tx& tx, const Request& req,
                                           const Principal& who, int64_t order_id) {
  std::optional<orders::Order> order = tx.orders().FindOrder(order_id);
  const std::string& token = req.Query("token");
  if (order) {
    if (who.staff()) return std::move(*order);
    if (who.customer() && order->customer_id && *order->customer_id == who.account->id) {
      return std::move(*order);
    }
    if (!token.empty() && token.size() <= 200 &&
        SecretsEqual(HashToken(token), order->access_token_hash)) {
      return std::move(*order);
    }
  }
  if (who.anonymous() && token.empty()) {
    return Status(Code::kUnauthorized, "log in or use the link from your confirmation");
  }
  return Status(Code::kNotFound, "no order " + std::to_string(order_id));
}


struct OrderCall {
  Principal who;
  int64_t order_id = 0;
};

Result<OrderCall> StartOrderCall(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return who.status();
  Result<int64_t> id = ParseId(req.params.at("id"));
  if (!id.ok()) return id.status();
  return OrderCall{std::move(who.value()), *id};
}

// A guest's link or the customer's session, for Idempotency-Key scopes.
std::string Scope(const OrderCall& call, const Request& req) {
  return call.who.actor() + ":" + HashToken(req.Query("token"));
}

Result<int64_t> Param(const Request& req, const char* name) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return Status(Code::kNotFound, "no such resource");
  return ParseId(it->second);
}

// A payment of this order (404 otherwise).
Result<Payment> PaymentOf(storage::Tx& tx, int64_t order_id, int64_t payment_id) {
  std::optional<Payment> p = tx.payments().FindPayment(payment_id);
  if (!p || p->order_id != order_id) {
    return Status(Code::kNotFound, "no payment " + std::to_string(payment_id) + " of this order");
  }
  return std::move(*p);
}

// ---- payments ----

Response ListPayments(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Json items = Json::array();
    for (const Payment& p : tx.payments().PaymentsOfOrder(order->id)) {
      items.push_back(PaymentJson(p, call->who.staff()));
    }
    int64_t paid = tx.orders().VerifiedPaymentAmount(order->id);
    return Json{{"items", std::move(items)},
                {"due", MoneyJson({std::max<int64_t>(0, order->totals.total.amount - paid),
                                   order->totals.total.currency})}};
  });
}

Response PostPayment(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string method_name = f.Str("method", 40);
  payments::NewPayment in;
  in.amount = f.OptInt("amount", 1, kPriceAmountMax * kCartLinesMax * kLineQuantityMax);
  in.reference = f.OptStr("reference", kTextShortBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  auto method = orders::ParsePaymentMethod(method_name);
  if (!method) return Problem(Status(Code::kInvalidArgument, "method is not known"));
  in.method = *method;
  if (in.method == orders::PaymentMethod::kCard) {
    // The provider's hosted page is made first (outside the transaction; its idempotency key
    // makes a retry get the same page), then the payment is recorded with it.
    if (ctx.options.card == nullptr) {
      return Problem(Status(Code::kUnavailable, "card payments are not configured"));
    }
    payments::CardSessionRequest session;
    Status checked = ctx.db.Read([&](storage::Tx& tx) -> Status {
      Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
      if (!order.ok()) return order.status();
      if (order->status != orders::OrderStatus::kPendingPayment) {
        return Status(Code::kInvalidTransition, "the order takes no payment now");
      }
      int64_t due = order->totals.total.amount - tx.orders().VerifiedPaymentAmount(order->id);
      if (due <= 0) return Status(Code::kInvalidTransition, "nothing is due on this order");
      session.order_id = order->id;
      session.order_number = order->number;
      session.amount_minor = in.amount.value_or(due);
      session.currency = order->totals.total.currency;  // Stripe writes it in lower case
      for (char& c : session.currency) c = static_cast<char>(std::tolower(c));
      session.customer_email = order->email;
      std::string back = ctx.options.public_url + "/orders/" + std::to_string(order->id);
      session.success_url = back + "?paid=1";
      session.cancel_url = back + "?cancelled=1";
      session.expires_at_s = ctx.clock.NowMs() / 1000 + kCardSessionSeconds;
      // The same request again (a retry) gets the same page; a new attempt after a failed one
      // gets a new page.
      session.idempotency_key =
          "pay-" + order->number + "-" +
          std::to_string(tx.payments().PaymentsOfOrder(order->id).size()) + "-" +
          HashToken(req.Header("idempotency-key")).substr(0, 16);
      return Status();
    });
    if (!checked.ok()) return Problem(checked);
    Result<payments::CardSession> made = ctx.options.card->CreateSession(session);
    if (!made.ok()) return Problem(made.status());
    in.amount = session.amount_minor;
    in.provider_session = made->id;
    in.redirect_url = made->url;
  }
  return WriteJson(ctx, req, Scope(*call, req), 201, [&](storage::Tx& tx) -> Result<Json> {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Domain d(ctx, tx, call->who.actor());
    Result<Payment> p = payments::RecordPayment(d.pay, order->id, in);
    if (!p.ok()) return p.status();
    return PaymentJson(*p, call->who.staff());
  });
}

// Stores a proof file by content hash in <data>/proofs (written whole, synced, then renamed).
Result<std::string> StoreProofFile(const std::string& data_dir, const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  std::filesystem::path dir = std::filesystem::path(data_dir) / "proofs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::filesystem::path file = dir / hex;
  if (std::filesystem::exists(file, ec)) return std::string(hex);
  std::filesystem::path tmp = dir / (std::string(hex) + ".tmp");
  FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) return Status(Code::kUnavailable, "cannot write " + tmp.string());
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size() &&
            std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) return Status(Code::kUnavailable, "cannot write " + tmp.string());
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Status(Code::kUnavailable, "cannot store " + file.string());
  return std::string(hex);
}

Response UploadProof(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  Result<int64_t> payment_id = Param(req, "pid");
  if (!payment_id.ok()) return Problem(payment_id.status());
  std::string filename = req.Query("filename").substr(0, kTextShortBytesMax);
  // Who may upload is checked before anything is stored.
  Status allowed = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    return PaymentOf(tx, order->id, *payment_id).status();
  });
  if (!allowed.ok()) return Problem(allowed);
  Result<FileType> type = DetectProofFile(req.body);
  if (!type.ok()) return Problem(type.status());
  Result<std::string> sha = StoreProofFile(ctx.options.data_dir, req.body);
  if (!sha.ok()) return Problem(sha.status());
  payments::Proof proof;
  proof.sha256 = *sha;
  proof.media_type = std::string(MimeType(*type));
  proof.bytes = static_cast<int64_t>(req.body.size());
  proof.filename = filename.empty() ? "proof." + std::string(Extension(*type)) : filename;
  proof.uploaded_by = call->who.actor();
  return WriteJson(ctx, req, Scope(*call, req), 201, [&](storage::Tx& tx) -> Result<Json> {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Result<Payment> p = PaymentOf(tx, order->id, *payment_id);
    if (!p.ok()) return p.status();
    Domain d(ctx, tx, call->who.actor());
    Result<payments::Proof> stored = payments::AttachProof(d.pay, p->id, proof);
    if (!stored.ok()) return stored.status();
    std::optional<Payment> after = tx.payments().FindPayment(p->id);
    return PaymentJson(*after, call->who.staff());
  });
}

Response GetProof(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  Result<int64_t> payment_id = Param(req, "pid");
  if (!payment_id.ok()) return Problem(payment_id.status());
  Result<int64_t> proof_id = Param(req, "fid");
  if (!proof_id.ok()) return Problem(proof_id.status());
  payments::Proof proof;
  Status found = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Result<Payment> p = PaymentOf(tx, order->id, *payment_id);
    if (!p.ok()) return p.status();
    for (const payments::Proof& f : p->proofs) {
      if (f.id == *proof_id) {
        proof = f;
        return Status();
      }
    }
    return Status(Code::kNotFound, "no proof " + std::to_string(*proof_id));
  });
  if (!found.ok()) return Problem(found);
  std::ifstream in(std::filesystem::path(ctx.options.data_dir) / "proofs" / proof.sha256,
                   std::ios::binary);
  if (!in) return Problem(Status(Code::kInternal, "the proof file is missing: " + proof.sha256));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  Response r;
  r.content_type = proof.media_type;
  r.body = bytes.str();
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"proof-" + std::to_string(proof.id) + "\"");
  return r;
}

Response DecidePayment(ApiContext& ctx, Request& req, bool verify) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kPaymentStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> order_id = Param(req, "id");
  if (!order_id.ok()) return Problem(order_id.status());
  Result<int64_t> payment_id = Param(req, "pid");
  if (!payment_id.ok()) return Problem(payment_id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string reason = f.Str("reason", kTextLongBytesMax, !verify);
  if (!f.ok()) return Problem(f.status());
  return WriteRendered(ctx, req, who->actor(), 200, [&](storage::Tx& tx) -> Result<Render> {
    Result<Payment> p = PaymentOf(tx, *order_id, *payment_id);
    if (!p.ok()) return p.status();
    Domain d(ctx, tx, who->actor());
    Result<orders::Order> order = verify ? payments::VerifyPayment(d.pay, p->id)
                                         : payments::RejectPayment(d.pay, p->id, reason);
    if (!order.ok()) return order.status();
    return Render([order = std::move(order.value())] { return OrderText(order, true); });
  });
}

Response PostRefund(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kRefundStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> order_id = Param(req, "id");
  if (!order_id.ok()) return Problem(order_id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  payments::RefundRequest r;
  r.amount = f.Int("amount", 1, kPriceAmountMax * kCartLinesMax * kLineQuantityMax);
  r.reason = f.Str("reason", kTextLongBytesMax);
  r.payment_id = f.OptInt("payment_id", 1, INT64_MAX);
  if (!f.ok()) return Problem(f.status());
  // A card payment is given back through the provider first (its idempotency key makes a retry
  // refund once), then recorded.
  Payment source;
  Status found = ctx.db.Read([&](storage::Tx& tx) -> Status {
    if (!tx.orders().FindOrder(*order_id)) {
      return Status(Code::kNotFound, "no order " + std::to_string(*order_id));
    }
    Domain d(ctx, tx, who->actor());
    Result<Payment> p = payments::RefundSource(d.pay, *order_id, r.amount, r.payment_id);
    if (!p.ok()) return p.status();
    source = std::move(p.value());
    return Status();
  });
  if (!found.ok()) return Problem(found);
  r.payment_id = source.id;
  if (source.method == orders::PaymentMethod::kCard && !source.provider_payment.empty()) {
    if (ctx.options.card == nullptr) {
      return Problem(Status(Code::kUnavailable, "card payments are not configured"));
    }
    Result<std::string> refunded = ctx.options.card->Refund(
        {source.provider_payment, r.amount,
         "refund-" + std::to_string(source.id) + "-" + std::to_string(source.refunded) + "-" +
             std::to_string(r.amount)});
    if (!refunded.ok()) return Problem(refunded.status());
    r.provider_refund = *refunded;
  }
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    Domain d(ctx, tx, who->actor());
    Result<payments::Refund> refund = payments::RefundOrder(d.pay, *order_id, r);
    if (!refund.ok()) return refund.status();
    Json notes = Json::array();
    for (const payments::Invoice& i : tx.payments().InvoicesOfOrder(*order_id)) {
      if (i.refund_id == refund->id) notes.push_back(InvoiceJson(i));
    }
    return Json{{"id", refund->id},
                {"order_id", refund->order_id},
                {"payment_id", refund->payment_id},
                {"amount", MoneyJson(refund->amount)},
                {"reason", refund->reason},
                {"credit_note", notes.empty() ? Json(nullptr) : notes[0]},
                {"created_at", Iso(refund->created_ms)}};
  });
}

// ---- invoices ----

// A credit note shows the refunded amount as its only line, against the order's invoice.
documents::InvoiceDocument DocumentOf(const payments::Invoice& invoice, const orders::Order& order,
                                      const std::optional<payments::Refund>& refund,
                                      const std::string& invoice_number, int utc_offset_minutes) {
  documents::InvoiceDocument doc;
  doc.kind = invoice.kind == payments::DocumentKind::kInvoice
                 ? documents::DocumentKind::kInvoice
                 : documents::DocumentKind::kCreditNote;
  doc.number = invoice.number;
  doc.issued_at_ms = invoice.created_ms;
  doc.utc_offset_minutes = utc_offset_minutes;
  doc.order_number = order.number;
  std::istringstream seller(invoice.seller);
  for (std::string line; std::getline(seller, line);) {
    if (doc.seller.name.empty()) {
      doc.seller.name = line;
    } else if (line.find('@') != std::string::npos) {
      doc.seller.email = line;
    } else if (line.rfind("SST", 0) == 0) {
      doc.seller.tax_registration = line;
    } else {
      doc.seller.address_lines.push_back(line);
    }
  }
  doc.buyer.name = order.name;
  doc.buyer.email = order.email;
  if (order.fulfillment.address) {
    const orders::Address& a = *order.fulfillment.address;
    for (const std::string& l : {a.line1, a.line2, a.postcode + " " + a.city, a.country}) {
      if (!l.empty() && l != " ") doc.buyer.address_lines.push_back(l);
    }
  }
  doc.currency = order.totals.total.currency;
  Money zero{0, doc.currency};
  if (refund) {
    doc.invoice_number = invoice_number;
    doc.lines.push_back({"Refund", refund->reason, "", 1, refund->amount, refund->amount});
    doc.subtotal = refund->amount;
    doc.discount = zero;
    doc.shipping = zero;
  } else {
    for (const orders::OrderLine& l : order.lines) {
      doc.lines.push_back({l.name, l.options, l.sku, l.quantity, l.unit_price, l.line_total});
    }
    doc.subtotal = order.totals.subtotal;
    doc.discount = order.totals.discount;
    doc.shipping = order.totals.shipping;
  }
  doc.total = invoice.amount;
  doc.tax_rate_basis_points = invoice.tax_rate_bp;
  doc.tax_contained = documents::TaxContained(invoice.amount, invoice.tax_rate_bp);
  doc.payment_method = PaymentMethodText(order.payment_method);
  return doc;
}

Response ListInvoices(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Json items = Json::array();
    for (const payments::Invoice& i : tx.payments().InvoicesOfOrder(order->id)) {
      items.push_back(InvoiceJson(i));
    }
    return Json{{"items", std::move(items)}};
  });
}

// GET …/invoice.pdf (the order's invoice) and …/documents/{doc}.pdf (any of its documents).
Response GetDocumentPdf(ApiContext& ctx, Request& req, bool the_invoice) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  int64_t doc_id = 0;
  if (!the_invoice) {
    Result<int64_t> id = Param(req, "doc");
    if (!id.ok()) return Problem(id.status());
    doc_id = *id;
  }
  documents::InvoiceDocument doc;
  Status found = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    std::vector<payments::Invoice> all = tx.payments().InvoicesOfOrder(order->id);
    std::string invoice_number;
    for (const payments::Invoice& i : all) {
      if (i.kind == payments::DocumentKind::kInvoice) invoice_number = i.number;
    }
    for (const payments::Invoice& i : all) {
      bool wanted = the_invoice ? i.kind == payments::DocumentKind::kInvoice : i.id == doc_id;
      if (!wanted) continue;
      std::optional<payments::Refund> refund;
      for (const payments::Refund& r : tx.payments().RefundsOfOrder(order->id)) {
        if (i.refund_id == r.id) refund = r;
      }
      doc = DocumentOf(i, *order, refund, invoice_number, ctx.options.utc_offset_minutes);
      return Status();
    }
    return Status(Code::kNotFound, the_invoice
                                       ? "this order has no invoice yet (it is issued once paid)"
                                       : "no document " + std::to_string(doc_id));
  });
  if (!found.ok()) return Problem(found);
  Result<std::string> pdf = documents::RenderInvoicePdf(doc);
  if (!pdf.ok()) return Problem(Status(Code::kInternal, pdf.status().message()));
  Response r;
  r.content_type = "application/pdf";
  r.body = std::move(pdf.value());
  r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + doc.number + ".pdf\"");
  return r;
}

// ---- shipments ----

Response ListShipments(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    Domain d(ctx, tx, call->who.actor());
    Result<std::vector<Shipment>> all = fulfillment::ShipmentsOfOrder(d.ful, order->id);
    if (!all.ok()) return all.status();
    Json items = Json::array();
    for (const Shipment& s : *all) items.push_back(ShipmentJson(s, call->who.staff()));
    return Json{{"items", std::move(items)}};
  });
}

// The hand-over code of a ready pick-up as a QR code (SVG), for the customer's phone.
Response GetHandoverQr(ApiContext& ctx, Request& req) {
  Result<OrderCall> call = StartOrderCall(ctx, req);
  if (!call.ok()) return Problem(call.status());
  Result<int64_t> shipment_id = Param(req, "sid");
  if (!shipment_id.ok()) return Problem(shipment_id.status());
  std::string code;
  Status found = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Result<orders::Order> order = AuthorizeOrderAccess(tx, req, call->who, call->order_id);
    if (!order.ok()) return order.status();
    std::optional<Shipment> s = tx.fulfillment().FindShipment(*shipment_id);
    if (!s || s->order_id != order->id ||
        s->status != fulfillment::ShipmentStatus::kReadyForPickup) {
      return Status(Code::kNotFound, "no pick-up ready for this order");
    }
    code = s->handover_code;
    return Status();
  });
  if (!found.ok()) return Problem(found);
  Result<std::string> svg = documents::QrSvg(code);
  if (!svg.ok()) return Problem(Status(Code::kInternal, svg.status().message()));
  Response r;
  r.content_type = "image/svg+xml";
  r.body = std::move(svg.value());
  return r;
}

// Staff who may act on a shipment: every staff role, a clerk only at their own store.
Status MayActAt(const Principal& who, int64_t location_id) {
  if (who.account->role == Role::kClerk && who.account->location_id != location_id) {
    return Status(Code::kForbidden, "a clerk acts only for their own store");
  }
  return Status();
}

Response GetShipment(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = Param(req, "id");
  if (!id.ok()) return Problem(id.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Domain d(ctx, tx, who->actor());
    Result<Shipment> s = fulfillment::ViewShipment(d.ful, *id);
    if (!s.ok()) return s.status();
    TANDEM_RETURN_IF_ERROR(MayActAt(*who, s->location_id));
    return ShipmentJson(*s, true);
  });
}

// POST /shipments/{id}/scans, /ship, /handover: a staff write on one shipment.
using ShipmentAction = std::function<Result<Shipment>(fulfillment::FulfillmentContext&, int64_t)>;
Response ActOnShipment(ApiContext& ctx, Request& req, const Principal& who, int64_t id,
                       const ShipmentAction& act) {
  return WriteJson(ctx, req, who.actor(), 200, [&](storage::Tx& tx) -> Result<Json> {
    std::optional<Shipment> s = tx.fulfillment().FindShipment(id);
    if (!s) return Status(Code::kNotFound, "no shipment " + std::to_string(id));
    TANDEM_RETURN_IF_ERROR(MayActAt(who, s->location_id));
    Domain d(ctx, tx, who.actor());
    Result<Shipment> done = act(d.ful, id);
    if (!done.ok()) return done.status();
    Result<Shipment> view = fulfillment::ViewShipment(d.ful, id);
    if (!view.ok()) return view.status();
    return ShipmentJson(*view, true);
  });
}

Response PostShipmentAction(ApiContext& ctx, Request& req, const std::string& action) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = Param(req, "id");
  if (!id.ok()) return Problem(id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  if (action == "scans") {
    std::string code = f.Str("code", 64);
    if (!f.ok()) return Problem(f.status());
    return ActOnShipment(ctx, req, *who, *id, [&](auto& fc, int64_t sid) {
      return fulfillment::Scan(fc, sid, code);
    });
  }
  if (action == "ship") {
    fulfillment::ShipRequest r;
    r.carrier = f.Str("carrier", kTextShortBytesMax);
    r.service = f.OptStr("service", kTextShortBytesMax).value_or("standard");
    r.tracking_number = f.Str("tracking_number", kTextShortBytesMax);
    if (!f.ok()) return Problem(f.status());
    return ActOnShipment(ctx, req, *who, *id, [&](auto& fc, int64_t sid) {
      return fulfillment::Ship(fc, sid, r);
    });
  }
  std::string code = f.Str("code", kTextShortBytesMax);
  if (!f.ok()) return Problem(f.status());
  return ActOnShipment(ctx, req, *who, *id, [&](auto& fc, int64_t sid) {
    return fulfillment::HandOver(fc, sid, code);
  });
}

Response GetPickList(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> location = Param(req, "id");
  if (!location.ok()) return Problem(location.status());
  if (Status s = MayActAt(*who, *location); !s.ok()) return Problem(s);
  std::vector<int64_t> order_ids;
  std::istringstream list(req.Query("orders"));
  for (std::string part; std::getline(list, part, ',');) {
    Result<int64_t> id = ParseId(part);
    if (!id.ok()) return Problem(Status(Code::kInvalidArgument, "orders must be ids: 1,2,3"));
    if (order_ids.size() >= static_cast<size_t>(kPickListOrdersMax)) {
      return Problem(Status(Code::kInvalidArgument, "at most " +
                                                        std::to_string(kPickListOrdersMax) +
                                                        " orders in one pick list"));
    }
    order_ids.push_back(*id);
  }
  const std::string& format = req.Query("format");
  if (!format.empty() && format != "json" && format != "pdf") {
    return Problem(Status(Code::kInvalidArgument, "format is json or pdf"));
  }
  fulfillment::PickList pick;
  Status built = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Domain d(ctx, tx, who->actor());
    Result<fulfillment::PickList> l = fulfillment::BuildPickList(d.ful, *location, order_ids);
    if (!l.ok()) return l.status();
    pick = std::move(l.value());
    return Status();
  });
  if (!built.ok()) return Problem(built);
  if (format == "pdf") {
    documents::PickList doc;
    doc.location_name = pick.location_name;
    doc.created_at_ms = ctx.clock.NowMs();
    doc.utc_offset_minutes = ctx.options.utc_offset_minutes;
    for (const Shipment& s : pick.shipments) {
      for (const fulfillment::ShipmentUnit& u : s.units) {
        if (u.quantity > u.scanned) {
          doc.items.push_back(
              {s.order_number, u.sku, u.name, u.options, u.barcode, u.quantity - u.scanned});
        }
      }
    }
    Result<std::string> pdf = documents::RenderPickListPdf(doc);
    if (!pdf.ok()) return Problem(Status(Code::kInternal, pdf.status().message()));
    Response r;
    r.content_type = "application/pdf";
    r.body = std::move(pdf.value());
    return r;
  }
  Json shipments = Json::array();
  for (const Shipment& s : pick.shipments) shipments.push_back(ShipmentJson(s, true));
  Json lines = Json::array();
  for (const fulfillment::PickLine& l : pick.lines) {
    Json per = Json::array();
    for (const auto& [number, units] : l.per_order) {
      per.push_back({{"order_number", number}, {"quantity", units}});
    }
    lines.push_back({{"sku", l.sku},
                     {"name", l.name},
                     {"options", l.options},
                     {"barcode", l.barcode},
                     {"quantity", l.quantity},
                     {"orders", std::move(per)}});
  }
  return JsonResponse(200, Json{{"location_id", pick.location_id},
                                {"location_name", pick.location_name},
                                {"shipments", std::move(shipments)},
                                {"lines", std::move(lines)}});
}

// ---- webhooks ----

// A signed webhook's body as JSON, or 401 when the signature is missing, wrong or stale.
Result<Json> SignedBody(ApiContext& ctx, const Request& req, const std::string& header,
                        const std::string& secret) {
  if (secret.empty()) return Status(Code::kUnavailable, "this webhook is not configured");
  TANDEM_RETURN_IF_ERROR(payments::VerifyStripeSignature(req.Header(header), req.body, secret,
                                                         ctx.clock.NowMs() / 1000));
  return ParseBody(req);
}

// The card provider's events (Stripe's protocol): checkout.session.completed verifies the
// payment of that session, checkout.session.expired rejects it; each event id once.
Response PaymentWebhook(ApiContext& ctx, Request& req) {
  Result<Json> body = SignedBody(ctx, req, "stripe-signature", ctx.options.payment_webhook_secret);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string event_id = f.Str("id", kTextShortBytesMax);
  std::string type = f.Str("type", kTextShortBytesMax);
  const Json* data = f.Object("data", true);
  if (!f.ok()) return Problem(f.status());
  Fields fd(*data, "data.");
  const Json* object = fd.Object("object", true);
  if (!fd.ok()) return Problem(fd.status());
  Fields fo(*object, "data.object.");
  std::string session = fo.Str("id", kTextShortBytesMax);
  std::string payment_intent = fo.OptStr("payment_intent", kTextShortBytesMax).value_or("");
  if (!fo.ok()) return Problem(fo.status());
  return WriteJson(ctx, req, "", 200, [&](storage::Tx& tx) -> Result<Json> {
    Json answer{{"received", true}, {"applied", false}};
    if (!tx.payments().TryRecordProviderEvent(event_id, type, ctx.clock.NowMs())) {
      answer["duplicate"] = true;
      return answer;
    }
    std::optional<Payment> p = tx.payments().FindPaymentBySession(session);
    if (!p) return answer;  // not a session of ours (or of another shop on the account)
    Domain d(ctx, tx, "provider:card");
    if (type == "checkout.session.completed") {
      Result<orders::Order> order =
          payments::VerifyPayment(d.pay, p->id, payment_intent.empty() ? session : payment_intent);
      if (order.ok()) answer["applied"] = true;
      else if (order.status().code() != Code::kInvalidTransition) return order.status();
    } else if (type == "checkout.session.expired") {
      Result<orders::Order> order =
          payments::RejectPayment(d.pay, p->id, "the card payment page expired unpaid");
      if (order.ok()) answer["applied"] = true;
      else if (order.status().code() != Code::kInvalidTransition) return order.status();
    }
    return answer;
  });
}

// A carrier's tracking update: {"event_id", "tracking_number", "status", "detail", "at"}.
Response CarrierWebhook(ApiContext& ctx, Request& req) {
  Result<Json> body =
      SignedBody(ctx, req, "x-carrier-signature", ctx.options.carrier_webhook_secret);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  fulfillment::ShipmentEvent e;
  e.event_id = f.Str("event_id", kTextShortBytesMax);
  std::string tracking = f.Str("tracking_number", kTextShortBytesMax);
  std::string status = f.Str("status", 40);
  e.detail = f.OptStr("detail", kTextShortBytesMax).value_or("");
  std::optional<int64_t> at = f.OptInt("at", 0, INT64_MAX / 1000);
  if (!f.ok()) return Problem(f.status());
  auto parsed = fulfillment::ParseShipmentStatus(status);
  if (!parsed || !fulfillment::IsCarrierStatus(*parsed)) {
    return Problem(Status(Code::kInvalidArgument,
                          "status must be in_transit, out_for_delivery, failed_attempt, "
                          "delivered or returned"));
  }
  e.status = *parsed;
  e.at_ms = at ? *at * 1000 : ctx.clock.NowMs();
  return WriteJson(ctx, req, "", 200, [&](storage::Tx& tx) -> Result<Json> {
    Domain d(ctx, tx, "carrier");
    Result<Shipment> s = fulfillment::CarrierUpdate(d.ful, tracking, e);
    if (!s.ok()) return s.status();
    return ShipmentJson(*s, true);
  });
}

}  // namespace

Status AfterStaffTransition(ApiContext& ctx, storage::Tx& tx, const std::string& actor,
                            const orders::Order& order) {
  Domain d(ctx, tx, actor);
  if (order.status == orders::OrderStatus::kProcessing) {
    return fulfillment::OpenShipments(d.ful, order);
  }
  if (order.status == orders::OrderStatus::kCancelled) {
    return fulfillment::CancelShipments(d.ful, order);
  }
  bool cash = order.payment_method == orders::PaymentMethod::kCashOnDelivery ||
              order.payment_method == orders::PaymentMethod::kCashInStore;
  if (order.status == orders::OrderStatus::kDelivered && cash) {
    return payments::CollectAtDoor(d.pay, order);
  }
  return Status();
}

void AddFulfillmentRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/v1/orders/{id}/payments",
             [&ctx](Request& r) { return ListPayments(ctx, r); });
  router.Add("POST", "/api/v1/orders/{id}/payments",
             [&ctx](Request& r) { return PostPayment(ctx, r); });
  router.Add("POST", "/api/v1/orders/{id}/payments/{pid}/proofs",
             [&ctx](Request& r) { return UploadProof(ctx, r); });
  router.Add("GET", "/api/v1/orders/{id}/payments/{pid}/proofs/{fid}",
             [&ctx](Request& r) { return GetProof(ctx, r); });
  router.Add("POST", "/api/v1/orders/{id}/payments/{pid}/verify",
             [&ctx](Request& r) { return DecidePayment(ctx, r, true); });
  router.Add("POST", "/api/v1/orders/{id}/payments/{pid}/reject",
             [&ctx](Request& r) { return DecidePayment(ctx, r, false); });
  router.Add("POST", "/api/v1/orders/{id}/refunds", [&ctx](Request& r) { return PostRefund(ctx, r); });
  router.Add("GET", "/api/v1/orders/{id}/invoices",
             [&ctx](Request& r) { return ListInvoices(ctx, r); });
  router.Add("GET", "/api/v1/orders/{id}/invoice.pdf",
             [&ctx](Request& r) { return GetDocumentPdf(ctx, r, true); });
  router.Add("GET", "/api/v1/orders/{id}/documents/{doc}",
             [&ctx](Request& r) { return GetDocumentPdf(ctx, r, false); });
  router.Add("GET", "/api/v1/orders/{id}/shipments",
             [&ctx](Request& r) { return ListShipments(ctx, r); });
  router.Add("GET", "/api/v1/orders/{id}/shipments/{sid}/handover-code.svg",
             [&ctx](Request& r) { return GetHandoverQr(ctx, r); });
  router.Add("GET", "/api/v1/shipments/{id}", [&ctx](Request& r) { return GetShipment(ctx, r); });
  for (const char* action : {"scans", "ship", "handover"}) {
    router.Add("POST", std::string("/api/v1/shipments/{id}/") + action,
               [&ctx, action](Request& r) { return PostShipmentAction(ctx, r, action); });
  }
  router.Add("GET", "/api/v1/locations/{id}/pick-list",
             [&ctx](Request& r) { return GetPickList(ctx, r); });
  router.Add("POST", "/api/v1/webhooks/payments",
             [&ctx](Request& r) { return PaymentWebhook(ctx, r); });
  router.Add("POST", "/api/v1/webhooks/carrier",
             [&ctx](Request& r) { return CarrierWebhook(ctx, r); });
}

}  // namespace tandem::api
