// SQLite implementations of the payment and fulfilment stores.
#include <string>

#include "tandem/base/check.h"
#include "tandem/storage/sqlite/stores.h"

namespace tandem::storage::sqlite {
namespace {

using fulfillment::Shipment;
using fulfillment::ShipmentStatus;
using payments::Payment;
using payments::PaymentState;

constexpr Query kInsertPayment{"insert_payment",
    "INSERT INTO payments (order_id, method, amount, currency, status, verified_by, reference, "
    "provider_session, redirect_url, created_ms, updated_ms) "
    "VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)"};
constexpr Query kSelectPayment{"select_payment",
    "SELECT id, order_id, method, amount, currency, status, reference, verified_by, reason, "
    "refunded, provider_session, provider_payment, redirect_url, created_ms, updated_ms "
    "FROM payments WHERE id = ?"};
constexpr Query kSelectPaymentBySession{"select_payment_by_session",
    "SELECT id, order_id, method, amount, currency, status, reference, verified_by, reason, "
    "refunded, provider_session, provider_payment, redirect_url, created_ms, updated_ms "
    "FROM payments WHERE provider_session = ?"};
constexpr Query kSelectPaymentsOfOrder{"select_payments_of_order",
    "SELECT id, order_id, method, amount, currency, status, reference, verified_by, reason, "
    "refunded, provider_session, provider_payment, redirect_url, created_ms, updated_ms "
    "FROM payments WHERE order_id = ? ORDER BY id"};
constexpr Query kSelectProofs{"select_proofs",
    "SELECT id, payment_id, sha256, media_type, bytes, filename, uploaded_by, created_ms "
    "FROM payment_proofs WHERE payment_id = ? ORDER BY id"};
constexpr Query kInsertProof{"insert_proof",
    "INSERT INTO payment_proofs (payment_id, sha256, media_type, bytes, filename, uploaded_by, "
    "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"};
// ?2: the states it may leave, as a comma-separated list of names.
constexpr Query kDecidePayment{"decide_payment",
    "UPDATE payments SET status = ?3, verified_by = CASE WHEN ?4 = '' THEN verified_by ELSE ?4 "
    "END, reason = ?5, provider_payment = CASE WHEN ?6 = '' THEN provider_payment ELSE ?6 END, "
    "updated_ms = ?7 WHERE id = ?1 AND instr(',' || ?2 || ',', ',' || status || ',') > 0"};
constexpr Query kAddRefunded{"add_refunded",
    "UPDATE payments SET refunded = refunded + ?2, "
    "status = CASE WHEN refunded + ?2 = amount THEN 'refunded' ELSE status END, updated_ms = ?3 "
    "WHERE id = ?1 AND status = 'verified' AND refunded + ?2 <= amount"};
constexpr Query kInsertRefund{"insert_refund",
    "INSERT INTO refunds (order_id, payment_id, amount, currency, reason, created_by, "
    "provider_refund, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectRefunds{"select_refunds",
    "SELECT id, order_id, payment_id, amount, currency, reason, created_by, provider_refund, "
    "created_ms FROM refunds WHERE order_id = ? ORDER BY id"};
constexpr Query kInsertProviderEvent{"insert_provider_event",
    "INSERT INTO provider_events (id, type, received_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"};
constexpr Query kNextDocumentSequence{"next_document_sequence",
    "INSERT INTO document_sequences (kind, year, last) VALUES (?, ?, 1) "
    "ON CONFLICT (kind, year) DO UPDATE SET last = last + 1 RETURNING last"};
constexpr Query kInsertInvoice{"insert_invoice",
    "INSERT INTO invoices (kind, year, sequence, number, order_id, refund_id, amount, currency, "
    "tax_rate_bp, seller, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectInvoices{"select_invoices",
    "SELECT id, kind, year, sequence, number, order_id, refund_id, amount, currency, "
    "tax_rate_bp, seller, created_ms FROM invoices WHERE order_id = ? ORDER BY id"};
constexpr Query kUnpaidOrders{"unpaid_orders_before",
    "SELECT id FROM orders WHERE status = 'pending_payment' AND "
    "payment_method IN ('bank_transfer', 'card') AND payment_method = ?1 AND created_ms < ?2 "
    "ORDER BY created_ms LIMIT ?3"};

constexpr Query kEnsureShipment{"ensure_shipment",
    "INSERT INTO shipments (order_id, location_id, status, created_ms, updated_ms) "
    "VALUES (?1, ?2, 'open', ?3, ?3) ON CONFLICT (order_id, location_id) DO NOTHING"};
constexpr Query kShipmentIdOf{"shipment_id_of",
    "SELECT id FROM shipments WHERE order_id = ? AND location_id = ?"};
constexpr Query kSelectShipment{"select_shipment",
    "SELECT id, order_id, location_id, status, carrier, service, tracking_number, handover_code, "
    "ready_ms, created_ms, updated_ms FROM shipments WHERE id = ?"};
constexpr Query kSelectShipmentsOfOrder{"select_shipments_of_order",
    "SELECT id, order_id, location_id, status, carrier, service, tracking_number, handover_code, "
    "ready_ms, created_ms, updated_ms FROM shipments WHERE order_id = ? ORDER BY id"};
constexpr Query kSelectShipmentsAt{"select_shipments_at",
    "SELECT id, order_id, location_id, status, carrier, service, tracking_number, handover_code, "
    "ready_ms, created_ms, updated_ms FROM shipments WHERE location_id = ? AND status = ? "
    "ORDER BY id LIMIT ?"};
constexpr Query kSelectShipmentByTracking{"select_shipment_by_tracking",
    "SELECT id, order_id, location_id, status, carrier, service, tracking_number, handover_code, "
    "ready_ms, created_ms, updated_ms FROM shipments WHERE tracking_number = ? AND "
    "tracking_number <> '' ORDER BY id DESC LIMIT 1"};
constexpr Query kMoveShipment{"move_shipment",
    "UPDATE shipments SET status = ?3, carrier = CASE WHEN ?4 = '' THEN carrier ELSE ?4 END, "
    "service = CASE WHEN ?5 = '' THEN service ELSE ?5 END, "
    "tracking_number = CASE WHEN ?6 = '' THEN tracking_number ELSE ?6 END, updated_ms = ?7 "
    "WHERE id = ?1 AND status = ?2"};
constexpr Query kSetHandoverCode{"set_handover_code",
    "UPDATE shipments SET handover_code = ?2, ready_ms = ?3 WHERE id = ?1"};
constexpr Query kSelectScans{"select_scans",
    "SELECT sku, scanned FROM shipment_scans WHERE shipment_id = ?"};
constexpr Query kScan{"scan_unit",
    "INSERT INTO shipment_scans (shipment_id, sku, scanned) SELECT ?1, ?2, 1 WHERE ?3 >= 1 "
    "ON CONFLICT (shipment_id, sku) DO UPDATE SET scanned = scanned + 1 WHERE scanned < ?3"};
constexpr Query kInsertShipmentEvent{"insert_shipment_event",
    "INSERT INTO shipment_events (shipment_id, event_id, status, detail, at_ms) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"};
constexpr Query kSelectShipmentEvents{"select_shipment_events",
    "SELECT event_id, status, detail, at_ms FROM shipment_events WHERE shipment_id = ? "
    "ORDER BY id"};
constexpr Query kSkuOfBarcode{"sku_of_barcode",
    "SELECT sku FROM variants WHERE barcode = ? AND barcode <> '' LIMIT 1"};
constexpr Query kBarcodeOf{"barcode_of", "SELECT barcode FROM variants WHERE sku = ?"};
constexpr Query kUncollected{"uncollected_pickups",
    "SELECT id FROM shipments WHERE status = 'ready_for_pickup' AND ready_ms < ? ORDER BY ready_ms "
    "LIMIT ?"};

constexpr Query kUncoveredOrders{"uncovered_paid_orders",
    "SELECT o.number, o.status, o.total, "
    "  (SELECT COALESCE(SUM(p.amount), 0) FROM payments p WHERE p.order_id = o.id AND "
    "   p.status IN ('verified', 'refunded')) AS paid "
    "FROM orders o WHERE ((o.status IN ('paid', 'processing', 'ready', 'shipped', 'delivered', "
    "  'completed') AND o.payment_method IN ('bank_transfer', 'card')) OR (o.status IN "
    "  ('delivered', 'completed') AND o.payment_method IN ('cash_on_delivery', 'cash_in_store'))) "
    "AND paid < o.total LIMIT 100"};
constexpr Query kDocumentGaps{"document_number_gaps",
    "SELECT i.kind, i.year, COUNT(*), COUNT(DISTINCT i.sequence), MAX(i.sequence), "
    "  COALESCE((SELECT last FROM document_sequences s WHERE s.kind = i.kind AND "
    "  s.year = i.year), 0) FROM invoices i GROUP BY i.kind, i.year"};
constexpr Query kShippedNotInLedger{"shipped_units_not_in_ledger",
    "WITH shipped AS (SELECT o.number AS reference, a.sku, a.location_id, SUM(a.quantity) AS units "
    "  FROM allocations a JOIN orders o ON o.id = a.order_id WHERE a.shipped = 1 "
    "  GROUP BY a.order_id, a.sku, a.location_id), "
    "sold AS (SELECT reference, sku, location_id, -SUM(delta) AS units FROM movements "
    "  WHERE reason = 'sale_online' GROUP BY reference, sku, location_id) "
    "SELECT s.reference, s.sku, s.location_id, s.units, COALESCE(l.units, 0) FROM shipped s "
    "  LEFT JOIN sold l ON l.reference = s.reference AND l.sku = s.sku AND "
    "  l.location_id = s.location_id WHERE s.units <> COALESCE(l.units, 0) "
    "UNION ALL SELECT l.reference, l.sku, l.location_id, 0, l.units FROM sold l "
    "  WHERE NOT EXISTS (SELECT 1 FROM shipped s WHERE s.reference = l.reference AND "
    "  s.sku = l.sku AND s.location_id = l.location_id) LIMIT 100"};

Payment ReadPayment(const Rows& r) {
  Payment p;
  p.id = r.Int(0);
  p.order_id = r.Int(1);
  auto method = orders::ParsePaymentMethod(r.Text(2));
  TANDEM_CHECK(method.has_value());
  p.method = *method;
  p.amount = {r.Int(3), r.Text(4)};
  auto state = payments::ParseState(r.Text(5));
  TANDEM_CHECK(state.has_value());
  p.state = *state;
  p.reference = r.Text(6);
  p.decided_by = r.Text(7);
  p.reason = r.Text(8);
  p.refunded = r.Int(9);
  if (!r.IsNull(10)) p.provider_session = r.Text(10);
  p.provider_payment = r.Text(11);
  p.redirect_url = r.Text(12);
  p.created_ms = r.Int(13);
  p.updated_ms = r.Int(14);
  return p;
}

Shipment ReadShipment(const Rows& r) {
  Shipment s;
  s.id = r.Int(0);
  s.order_id = r.Int(1);
  s.location_id = r.Int(2);
  auto status = fulfillment::ParseShipmentStatus(r.Text(3));
  TANDEM_CHECK(status.has_value());
  s.status = *status;
  s.carrier = r.Text(4);
  s.service = r.Text(5);
  s.tracking_number = r.Text(6);
  s.handover_code = r.Text(7);
  s.ready_ms = r.Int(8);
  s.created_ms = r.Int(9);
  s.updated_ms = r.Int(10);
  return s;
}

std::vector<Shipment> ReadShipments(Rows r) {
  std::vector<Shipment> out;
  while (r.Next()) out.push_back(ReadShipment(r));
  return out;
}

}  // namespace

// ======== SqlitePaymentStore ========

int64_t SqlitePaymentStore::InsertPayment(const Payment& p) {
  c_.Exec(kInsertPayment, p.order_id, std::string(orders::PaymentMethodName(p.method)),
          p.amount.amount, p.amount.currency, std::string(payments::StateName(p.state)),
          p.reference, p.provider_session, p.redirect_url, p.created_ms, p.updated_ms);
  return c_.LastInsertId();
}

void SqlitePaymentStore::AddProofs(Payment& p) {
  Rows r = c_.Select(kSelectProofs, p.id);
  while (r.Next()) {
    p.proofs.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4), r.Text(5), r.Text(6),
                        r.Int(7)});
  }
}

std::optional<Payment> SqlitePaymentStore::FindPayment(int64_t id) {
  Rows r = c_.Select(kSelectPayment, id);
  if (!r.Next()) return std::nullopt;
  Payment p = ReadPayment(r);
  AddProofs(p);
  return p;
}

std::optional<Payment> SqlitePaymentStore::FindPaymentBySession(const std::string& session) {
  Rows r = c_.Select(kSelectPaymentBySession, session);
  if (!r.Next()) return std::nullopt;
  Payment p = ReadPayment(r);
  AddProofs(p);
  return p;
}

std::vector<Payment> SqlitePaymentStore::PaymentsOfOrder(int64_t order_id) {
  std::vector<Payment> out;
  {
    Rows r = c_.Select(kSelectPaymentsOfOrder, order_id);
    while (r.Next()) out.push_back(ReadPayment(r));
  }
  for (Payment& p : out) AddProofs(p);
  return out;
}

bool SqlitePaymentStore::TryDecide(int64_t id, std::initializer_list<PaymentState> from,
                                   PaymentState to, const std::string& decided_by,
                                   const std::string& reason, const std::string& provider_payment,
                                   int64_t now_ms) {
  std::string states;
  for (PaymentState s : from) {
    if (!states.empty()) states += ',';
    states += payments::StateName(s);
  }
  return c_.Exec(kDecidePayment, id, states, std::string(payments::StateName(to)), decided_by,
                 reason, provider_payment, now_ms) == 1;
}

int64_t SqlitePaymentStore::InsertProof(const payments::Proof& p) {
  c_.Exec(kInsertProof, p.payment_id, p.sha256, p.media_type, p.bytes, p.filename, p.uploaded_by,
          p.created_ms);
  return c_.LastInsertId();
}

bool SqlitePaymentStore::TryAddRefunded(int64_t payment_id, int64_t amount, int64_t now_ms) {
  return c_.Exec(kAddRefunded, payment_id, amount, now_ms) == 1;
}

int64_t SqlitePaymentStore::InsertRefund(const payments::Refund& r) {
  c_.Exec(kInsertRefund, r.order_id, r.payment_id, r.amount.amount, r.amount.currency, r.reason,
          r.created_by, r.provider_refund, r.created_ms);
  return c_.LastInsertId();
}

std::vector<payments::Refund> SqlitePaymentStore::RefundsOfOrder(int64_t order_id) {
  std::vector<payments::Refund> out;
  Rows r = c_.Select(kSelectRefunds, order_id);
  while (r.Next()) {
    out.push_back({r.Int(0), r.Int(1), r.Int(2), {r.Int(3), r.Text(4)}, r.Text(5), r.Text(6),
                   r.Text(7), r.Int(8)});
  }
  return out;
}

bool SqlitePaymentStore::TryRecordProviderEvent(const std::string& event_id,
                                                const std::string& type, int64_t now_ms) {
  return c_.Exec(kInsertProviderEvent, event_id, type, now_ms) == 1;
}

int64_t SqlitePaymentStore::NextDocumentSequence(payments::DocumentKind kind, int year) {
  Rows r = c_.Select(kNextDocumentSequence, std::string(payments::DocumentKindName(kind)),
                     int64_t{year});
  TANDEM_CHECK(r.Next());
  return r.Int(0);
}

int64_t SqlitePaymentStore::InsertInvoice(const payments::Invoice& i) {
  c_.Exec(kInsertInvoice, std::string(payments::DocumentKindName(i.kind)), int64_t{i.year},
          i.sequence, i.number, i.order_id, i.refund_id, i.amount.amount, i.amount.currency,
          int64_t{i.tax_rate_bp}, i.seller, i.created_ms);
  return c_.LastInsertId();
}

std::vector<payments::Invoice> SqlitePaymentStore::InvoicesOfOrder(int64_t order_id) {
  std::vector<payments::Invoice> out;
  Rows r = c_.Select(kSelectInvoices, order_id);
  while (r.Next()) {
    payments::Invoice i;
    i.id = r.Int(0);
    i.kind = r.Text(1) == "invoice" ? payments::DocumentKind::kInvoice
                                    : payments::DocumentKind::kCreditNote;
    i.year = static_cast<int>(r.Int(2));
    i.sequence = r.Int(3);
    i.number = r.Text(4);
    i.order_id = r.Int(5);
    i.refund_id = r.OptInt(6);
    i.amount = {r.Int(7), r.Text(8)};
    i.tax_rate_bp = static_cast<int>(r.Int(9));
    i.seller = r.Text(10);
    i.created_ms = r.Int(11);
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<int64_t> SqlitePaymentStore::UnpaidOrdersBefore(orders::PaymentMethod method,
                                                            int64_t before_ms, int limit) {
  std::vector<int64_t> out;
  Rows r = c_.Select(kUnpaidOrders, std::string(orders::PaymentMethodName(method)), before_ms,
                     int64_t{limit});
  while (r.Next()) out.push_back(r.Int(0));
  return out;
}

std::vector<std::string> SqlitePaymentStore::Discrepancies() {
  std::vector<std::string> out;
  {
    Rows r = c_.Select(kUncoveredOrders);
    while (r.Next()) {
      out.push_back("order " + r.Text(0) + " is " + r.Text(1) + " but verified payments cover " +
                    std::to_string(r.Int(3)) + " of its " + std::to_string(r.Int(2)));
    }
  }
  Rows r = c_.Select(kDocumentGaps);
  while (r.Next()) {
    int64_t count = r.Int(2), distinct = r.Int(3), max = r.Int(4), last = r.Int(5);
    if (count != distinct || count != max || max != last) {
      out.push_back(r.Text(0) + " numbers of " + std::to_string(r.Int(1)) + ": " +
                    std::to_string(count) + " documents, highest " + std::to_string(max) +
                    ", sequence at " + std::to_string(last) + " (a gap or a duplicate)");
    }
  }
  return out;
}

// ======== SqliteFulfillmentStore ========

int64_t SqliteFulfillmentStore::EnsureShipment(int64_t order_id, int64_t location_id,
                                               int64_t now_ms) {
  c_.Exec(kEnsureShipment, order_id, location_id, now_ms);
  Rows r = c_.Select(kShipmentIdOf, order_id, location_id);
  TANDEM_CHECK(r.Next());
  return r.Int(0);
}

std::optional<Shipment> SqliteFulfillmentStore::FindShipment(int64_t id) {
  Rows r = c_.Select(kSelectShipment, id);
  if (!r.Next()) return std::nullopt;
  return ReadShipment(r);
}

std::vector<Shipment> SqliteFulfillmentStore::ShipmentsOfOrder(int64_t order_id) {
  return ReadShipments(c_.Select(kSelectShipmentsOfOrder, order_id));
}

std::vector<Shipment> SqliteFulfillmentStore::ShipmentsAt(int64_t location_id,
                                                          ShipmentStatus status, int limit) {
  return ReadShipments(c_.Select(kSelectShipmentsAt, location_id,
                                 std::string(fulfillment::ShipmentStatusName(status)),
                                 int64_t{limit}));
}

std::optional<Shipment> SqliteFulfillmentStore::FindShipmentByTracking(const std::string& t) {
  Rows r = c_.Select(kSelectShipmentByTracking, t);
  if (!r.Next()) return std::nullopt;
  return ReadShipment(r);
}

bool SqliteFulfillmentStore::TryMove(int64_t id, ShipmentStatus from, ShipmentStatus to,
                                     const std::string& carrier, const std::string& service,
                                     const std::string& tracking_number, int64_t now_ms) {
  return c_.Exec(kMoveShipment, id, std::string(fulfillment::ShipmentStatusName(from)),
                 std::string(fulfillment::ShipmentStatusName(to)), carrier, service,
                 tracking_number, now_ms) == 1;
}

void SqliteFulfillmentStore::SetHandoverCode(int64_t id, const std::string& code,
                                             int64_t ready_ms) {
  TANDEM_CHECK(c_.Exec(kSetHandoverCode, id, code, ready_ms) == 1);
}

std::map<std::string, int64_t> SqliteFulfillmentStore::Scans(int64_t shipment_id) {
  std::map<std::string, int64_t> out;
  Rows r = c_.Select(kSelectScans, shipment_id);
  while (r.Next()) out[r.Text(0)] = r.Int(1);
  return out;
}

bool SqliteFulfillmentStore::TryScan(int64_t shipment_id, const std::string& sku,
                                     int64_t allocated) {
  return c_.Exec(kScan, shipment_id, sku, allocated) == 1;
}

bool SqliteFulfillmentStore::TryRecordEvent(int64_t shipment_id,
                                            const fulfillment::ShipmentEvent& e) {
  return c_.Exec(kInsertShipmentEvent, shipment_id, e.event_id,
                 std::string(fulfillment::ShipmentStatusName(e.status)), e.detail, e.at_ms) == 1;
}

std::vector<fulfillment::ShipmentEvent> SqliteFulfillmentStore::EventsOf(int64_t shipment_id) {
  std::vector<fulfillment::ShipmentEvent> out;
  Rows r = c_.Select(kSelectShipmentEvents, shipment_id);
  while (r.Next()) {
    auto status = fulfillment::ParseShipmentStatus(r.Text(1));
    TANDEM_CHECK(status.has_value());
    out.push_back({r.Text(0), *status, r.Text(2), r.Int(3)});
  }
  return out;
}

std::optional<std::string> SqliteFulfillmentStore::SkuOfBarcode(const std::string& barcode) {
  Rows r = c_.Select(kSkuOfBarcode, barcode);
  if (!r.Next()) return std::nullopt;
  return r.Text(0);
}

std::string SqliteFulfillmentStore::BarcodeOf(const std::string& sku) {
  Rows r = c_.Select(kBarcodeOf, sku);
  return r.Next() ? r.Text(0) : std::string();
}

std::vector<int64_t> SqliteFulfillmentStore::UncollectedPickups(int64_t before_ms, int limit) {
  std::vector<int64_t> out;
  Rows r = c_.Select(kUncollected, before_ms, int64_t{limit});
  while (r.Next()) out.push_back(r.Int(0));
  return out;
}

std::vector<std::string> SqliteFulfillmentStore::Discrepancies() {
  std::vector<std::string> out;
  Rows r = c_.Select(kShippedNotInLedger);
  while (r.Next()) {
    out.push_back("order " + r.Text(0) + ": " + std::to_string(r.Int(3)) + " unit(s) of " +
                  r.Text(1) + " shipped from location " + std::to_string(r.Int(2)) + " but " +
                  std::to_string(r.Int(4)) + " left its ledger");
  }
  return out;
}

}  // namespace tandem::storage::sqlite
