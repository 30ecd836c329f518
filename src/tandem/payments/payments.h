// Payments: how an order's money arrives and is verified, given back (refunds), and documented
// (invoices and credit notes with gapless numbers).
//
// I5: an order reaches `paid` only through verified payments that cover its total. Staff verify a
// bank transfer (after looking at its proof files) or cash; the card provider's signed webhook
// verifies a card payment. Cash-on-delivery orders are prepared unpaid and paid at delivery, cash
// in store at the hand-over. Every function runs inside the caller's write transaction; a
// refused operation changes nothing (the caller rolls back). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/money.h"
#include "tandem/base/result.h"
#include "tandem/notify/notify.h"
#include "tandem/orders/service.h"

namespace tandem::payments {

enum class PaymentState { kPending, kSubmitted, kVerified, kRejected, kRefunded };
std::string_view StateName(PaymentState state);
std::optional<PaymentState> ParseState(std::string_view name);

// A file that shows a payment was made (a bank transfer's slip), stored by content hash.
struct Proof {
  int64_t id = 0;
  int64_t payment_id = 0;
  std::string sha256;      // hex; the file is <data>/proofs/<sha256>
  std::string media_type;  // application/pdf, image/jpeg, image/png
  int64_t bytes = 0;
  std::string filename;    // as uploaded, for display only
  std::string uploaded_by;
  int64_t created_ms = 0;
};

struct Payment {
  int64_t id = 0;
  int64_t order_id = 0;
  orders::PaymentMethod method = orders::PaymentMethod::kBankTransfer;
  Money amount;
  PaymentState state = PaymentState::kPending;
  std::string reference;         // the customer's transfer reference, the provider's payment id
  std::string decided_by;        // who verified or rejected it: "staff:<email>", "provider:card"
  std::string reason;            // why it was rejected
  int64_t refunded = 0;          // minor units given back; state is kRefunded when all of it
  std::optional<std::string> provider_session;  // card: the provider's checkout session
  std::string provider_payment;  // card: the provider's payment (for refunds)
  std::string redirect_url;      // card: the provider's hosted page
  std::vector<Proof> proofs;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct Refund {
  int64_t id = 0;
  int64_t order_id = 0;
  int64_t payment_id = 0;
  Money amount;
  std::string reason;
  std::string created_by;
  std::string provider_refund;
  int64_t created_ms = 0;
};

enum class DocumentKind { kInvoice, kCreditNote };
std::string_view DocumentKindName(DocumentKind kind);

// An invoice or a credit note. What the document shows besides the order (seller, tax rate) is
// kept as it was when it was issued.
struct Invoice {
  int64_t id = 0;
  DocumentKind kind = DocumentKind::kInvoice;
  int year = 0;
  int64_t sequence = 0;
  std::string number;  // INV-2026-000001, CN-2026-000001
  int64_t order_id = 0;
  std::optional<int64_t> refund_id;
  Money amount;
  int tax_rate_bp = 0;  // basis points: 600 = 6 %
  std::string seller;   // lines: name, address…, tax id, e-mail
  int64_t created_ms = 0;
};

// Who sells, for invoices (from settings).
struct SellerSettings {
  std::string seller = "Tandem Demo Sdn Bhd\nJalan Sultan Ismail 1\n50250 Kuala Lumpur\n"
                       "SST No. W10-1808-32000001\nbilling@tandem.local";
  int tax_rate_bp = 600;  // Malaysian SST on goods, contained in the prices
};

class PaymentStore {
 public:
  virtual ~PaymentStore() = default;
  virtual int64_t InsertPayment(const Payment& payment) = 0;
  // With its proofs.
  virtual std::optional<Payment> FindPayment(int64_t id) = 0;
  virtual std::optional<Payment> FindPaymentBySession(const std::string& provider_session) = 0;
  virtual std::vector<Payment> PaymentsOfOrder(int64_t order_id) = 0;
  // Guarded: moves the payment from one of `from` to `to` with who and why; false (nothing
  // changed) when it is in none of them.
  virtual bool TryDecide(int64_t id, std::initializer_list<PaymentState> from, PaymentState to,
                         const std::string& decided_by, const std::string& reason,
                         const std::string& provider_payment, int64_t now_ms) = 0;
  virtual int64_t InsertProof(const Proof& proof) = 0;
  // Guarded: adds `amount` to what was given back of a verified payment while the total stays
  // within its amount (the state becomes kRefunded once all of it is); false otherwise.
  virtual bool TryAddRefunded(int64_t payment_id, int64_t amount, int64_t now_ms) = 0;
  virtual int64_t InsertRefund(const Refund& refund) = 0;
  virtual std::vector<Refund> RefundsOfOrder(int64_t order_id) = 0;
  // Guarded: records a provider event; false when it was recorded before (apply it once).
  virtual bool TryRecordProviderEvent(const std::string& event_id, const std::string& type,
                                      int64_t now_ms) = 0;
  // Next number of a document kind in `year`: 1, 2, 3 … (the upsert is the guard).
  virtual int64_t NextDocumentSequence(DocumentKind kind, int year) = 0;
  virtual int64_t InsertInvoice(const Invoice& invoice) = 0;
  virtual std::vector<Invoice> InvoicesOfOrder(int64_t order_id) = 0;
  // Bank-transfer or card orders still pending payment that were placed before `before_ms`,
  // oldest first.
  virtual std::vector<int64_t> UnpaidOrdersBefore(orders::PaymentMethod method, int64_t before_ms,
                                                  int limit) = 0;
  // For `tandem check`, one line each: an order past payment (or a cash order delivered) whose
  // verified payments do not cover its total (I5); a gap or a duplicate in the numbers of a
  // document kind and year.
  virtual std::vector<std::string> Discrepancies() = 0;
};

struct PaymentContext {
  orders::OrderContext& order;
  PaymentStore& store;
  notify::NotifyStore& notify;
  SellerSettings seller;
  // Called in the same transaction when an order becomes paid (fulfilment opens its shipments).
  std::function<Status(const orders::Order&)> on_paid;
};

// A message to the order's customer in the outbox, written in the transaction of the change it
// tells about (so it is sent once that change is durable, and never for one rolled back).
void TellCustomer(PaymentContext& ctx, const orders::Order& order, const std::string& kind,
                  const std::string& subject, const std::string& body);

// Minor units of verified payments not given back.
int64_t VerifiedTotal(const std::vector<Payment>& payments);

struct NewPayment {
  orders::PaymentMethod method = orders::PaymentMethod::kBankTransfer;
  std::optional<int64_t> amount;  // default: what is still due
  std::string reference;
  std::string provider_session;   // card
  std::string redirect_url;       // card
};
// Records a payment the customer (or staff, for a manual order) is making. kInvalidTransition
// when the order takes no payment now (cancelled, or nothing is due), kInvalidArgument for an
// amount outside 1..due or a method that is paid at the door (cash on delivery, cash in store).
Result<Payment> RecordPayment(PaymentContext& ctx, int64_t order_id, const NewPayment& payment);

// Attaches a proof file to a pending or submitted payment (it becomes submitted).
// kInvalidTransition for a payment already decided; kConflict past kProofsPerPaymentMax.
Result<Proof> AttachProof(PaymentContext& ctx, int64_t payment_id, Proof proof);

// Verifies a payment (staff, or the provider for a card: `provider_payment` is its payment id, and
// a payment the provider reported expired earlier is verified all the same, since the money
// arrived). When verified payments then cover the total, the order becomes paid, its invoice is
// issued, `on_paid` runs and the customer is told. Returns the order.
Result<orders::Order> VerifyPayment(PaymentContext& ctx, int64_t payment_id,
                                    const std::string& provider_payment = "");
// Rejects a payment with a reason (required); the customer is told why.
Result<orders::Order> RejectPayment(PaymentContext& ctx, int64_t payment_id,
                                    const std::string& reason);

// Money collected at the door (cash on delivery at delivery, cash in store at the hand-over):
// a verified payment of what is due, and the invoice. Nothing when nothing is due.
Status CollectAtDoor(PaymentContext& ctx, const orders::Order& order);

struct RefundRequest {
  int64_t amount = 0;  // minor units
  std::string reason;
  std::optional<int64_t> payment_id;  // default: the newest verified payment with enough left
  std::string provider_refund;        // set by the caller once the provider refunded a card
};
// Gives back money of verified payments with a credit note. When everything paid is given back
// and the order has not left, the order is refunded (its stock goes back).
Result<Refund> RefundOrder(PaymentContext& ctx, int64_t order_id, const RefundRequest& request);
// The payment a refund of `amount` would come from (see RefundRequest::payment_id).
Result<Payment> RefundSource(PaymentContext& ctx, int64_t order_id, int64_t amount,
                             std::optional<int64_t> payment_id);

// Issues the invoice of an order (once; later calls return the first).
Result<Invoice> IssueInvoice(PaymentContext& ctx, const orders::Order& order);

// Cancels bank-transfer orders unpaid for `bank_ttl_ms` and card orders unpaid for
// `card_ttl_ms` (their stock goes back, the customer is told). Returns how many.
int ExpireUnpaidOrders(PaymentContext& ctx, int64_t bank_ttl_ms, int64_t card_ttl_ms, int limit);

// "INV-2026-000001"
std::string DocumentNumber(DocumentKind kind, int year, int64_t sequence);

}  // namespace tandem::payments
