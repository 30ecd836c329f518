#include "tandem/payments/payments.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "tandem/base/check.h"
#include "tandem/base/clock.h"
#include "tandem/base/enum_names.h"
#include "tandem/base/limits.h"
#include "tandem/documents/format.h"

namespace tandem::payments {
namespace {

using orders::Order;
using orders::OrderStatus;
using orders::PaymentMethod;

constexpr std::array<std::pair<PaymentState, std::string_view>, 5> kStateNames{{
    {PaymentState::kPending, "pending"},
    {PaymentState::kSubmitted, "submitted"},
    {PaymentState::kVerified, "verified"},
    {PaymentState::kRejected, "rejected"},
    {PaymentState::kRefunded, "refunded"},
}};

std::string Amount(int64_t minor, const std::string& currency) {
  return documents::FormatMoney({minor, currency});
}

// The next number of its kind and year, taken in this transaction (no gap), and the document
// with the seller's details as they are now.
Invoice IssueDocument(PaymentContext& ctx, DocumentKind kind, int64_t order_id,
                      const Money& amount, std::optional<int64_t> refund_id) {
  Invoice d;
  d.kind = kind;
  d.year = YearOf(ctx.order.now_ms);
  d.sequence = ctx.store.NextDocumentSequence(kind, d.year);
  d.number = DocumentNumber(kind, d.year, d.sequence);
  d.order_id = order_id;
  d.refund_id = refund_id;
  d.amount = amount;
  d.tax_rate_bp = ctx.seller.tax_rate_bp;
  d.seller = ctx.seller.seller;
  d.created_ms = ctx.order.now_ms;
  d.id = ctx.store.InsertInvoice(d);
  return d;
}

Result<Order> LoadOrder(PaymentContext& ctx, int64_t order_id) {
  std::optional<Order> order = ctx.order.orders.FindOrder(order_id);
  if (!order) return Status(Code::kNotFound, "no order " + std::to_string(order_id));
  return std::move(*order);
}

Result<Payment> LoadPayment(PaymentContext& ctx, int64_t payment_id) {
  std::optional<Payment> payment = ctx.store.FindPayment(payment_id);
  if (!payment) return Status(Code::kNotFound, "no payment " + std::to_string(payment_id));
  return std::move(*payment);
}

bool PaidAtTheDoor(PaymentMethod method) {
  return method == PaymentMethod::kCashOnDelivery || method == PaymentMethod::kCashInStore;
}

}  // namespace

void TellCustomer(PaymentContext& ctx, const Order& order, const std::string& kind,
                  const std::string& subject, const std::string& body) {
  notify::OutboxMessage m;
  m.kind = kind;
  m.recipient = order.email;
  m.subject = subject + " (order " + order.number + ")";
  m.body = "Dear " + (order.name.empty() ? std::string("customer") : order.name) + ",\n\n" + body +
           "\n\nOrder " + order.number + ", tracking code " + order.tracking_code + ".\n";
  m.reference = order.number;
  m.created_ms = ctx.order.now_ms;
  ctx.notify.InsertOutbox(m);
}

std::string_view StateName(PaymentState s) { return NameOf(kStateNames, s); }
std::optional<PaymentState> ParseState(std::string_view n) { return ParseName(kStateNames, n); }

std::string_view DocumentKindName(DocumentKind kind) {
  return kind == DocumentKind::kInvoice ? "invoice" : "credit_note";
}

std::string DocumentNumber(DocumentKind kind, int year, int64_t sequence) {
  char text[48];
  std::snprintf(text, sizeof text, "%s-%d-%06lld", kind == DocumentKind::kInvoice ? "INV" : "CN",
                year, static_cast<long long>(sequence));
  return text;
}

int64_t VerifiedTotal(const std::vector<Payment>& payments) {
  int64_t total = 0;
  for (const Payment& p : payments) {
    if (p.state == PaymentState::kVerified || p.state == PaymentState::kRefunded) {
      total += p.amount.amount - p.refunded;
    }
  }
  return total;
}

Result<Payment> RecordPayment(PaymentContext& ctx, int64_t order_id, const NewPayment& in) {
  Result<Order> order = LoadOrder(ctx, order_id);
  if (!order.ok()) return order.status();
  if (PaidAtTheDoor(in.method)) {
    return Status(Code::kInvalidArgument,
                  "cash is paid at delivery or at the hand-over, not recorded in advance");
  }
  if (order->status != OrderStatus::kPendingPayment) {
    return Status(Code::kInvalidTransition, "the order is " +
                                                std::string(orders::StatusName(order->status)) +
                                                " and takes no payment now");
  }
  std::vector<Payment> existing = ctx.store.PaymentsOfOrder(order_id);
  if (existing.size() >= kPaymentsPerOrderMax) {
    return Status(Code::kConflict, "an order takes at most " +
                                            std::to_string(kPaymentsPerOrderMax) + " payments");
  }
  int64_t due = order->totals.total.amount - VerifiedTotal(existing);
  if (due <= 0) return Status(Code::kInvalidTransition, "nothing is due on this order");
  int64_t amount = in.amount.value_or(due);
  if (amount < 1 || amount > due) {
    return Status(Code::kInvalidArgument,
                  "amount must be between 1 and the " + std::to_string(due) + " still due");
  }
  Payment p;
  p.order_id = order_id;
  p.method = in.method;
  p.amount = {amount, order->totals.total.currency};
  p.reference = in.reference;
  if (!in.provider_session.empty()) p.provider_session = in.provider_session;
  p.redirect_url = in.redirect_url;
  p.created_ms = p.updated_ms = ctx.order.now_ms;
  p.id = ctx.store.InsertPayment(p);
  return p;
}

Result<Proof> AttachProof(PaymentContext& ctx, int64_t payment_id, Proof proof) {
  Result<Payment> payment = LoadPayment(ctx, payment_id);
  if (!payment.ok()) return payment.status();
  if (payment->state != PaymentState::kPending && payment->state != PaymentState::kSubmitted) {
    return Status(Code::kInvalidTransition,
                  "the payment is " + std::string(StateName(payment->state)) +
                      "; a proof goes with a payment waiting for verification");
  }
  if (payment->proofs.size() >= kProofsPerPaymentMax) {
    return Status(Code::kConflict, "a payment takes at most " +
                                            std::to_string(kProofsPerPaymentMax) + " proofs");
  }
  proof.payment_id = payment_id;
  proof.created_ms = ctx.order.now_ms;
  proof.id = ctx.store.InsertProof(proof);
  if (payment->state == PaymentState::kPending &&
      !ctx.store.TryDecide(payment_id, {PaymentState::kPending}, PaymentState::kSubmitted, "", "",
                           "", ctx.order.now_ms)) {
    return Status(Code::kConflict, "the payment changed meanwhile; retry");
  }
  return proof;
}

Result<Order> VerifyPayment(PaymentContext& ctx, int64_t payment_id,
                            const std::string& provider_payment) {
  Result<Payment> payment = LoadPayment(ctx, payment_id);
  if (!payment.ok()) return payment.status();
  Result<Order> order = LoadOrder(ctx, payment->order_id);
  if (!order.ok()) return order.status();
  // The provider's word that the money arrived outranks an earlier expiry it reported late.
  bool decided =
      provider_payment.empty()
          ? ctx.store.TryDecide(payment_id, {PaymentState::kPending, PaymentState::kSubmitted},
                                PaymentState::kVerified, ctx.order.actor, "", "",
                                ctx.order.now_ms)
          : ctx.store.TryDecide(payment_id,
                                {PaymentState::kPending, PaymentState::kSubmitted,
                                 PaymentState::kRejected},
                                PaymentState::kVerified, ctx.order.actor, "", provider_payment,
                                ctx.order.now_ms);
  if (!decided) {
    return Status(Code::kInvalidTransition,
                  "the payment is " + std::string(StateName(payment->state)) +
                      "; only a pending or submitted payment can be verified");
  }
  ctx.order.orders.AppendTimeline(
      order->id, {ctx.order.now_ms, ctx.order.actor, "", "",
                  "payment " + std::to_string(payment_id) + " verified (" +
                      std::string(orders::PaymentMethodName(payment->method)) + ", " +
                      Amount(payment->amount.amount, payment->amount.currency) + ")",
                  "Payment received"});
  if (order->status == OrderStatus::kCancelled || order->status == OrderStatus::kRefunded) {
    // Money for an order that no longer stands: a person gives it back.
    notify::ContactTask task;
    task.order_id = order->id;
    task.reason = "payment_after_cancellation";
    task.detail = "payment " + std::to_string(payment_id) + " of " +
                  Amount(payment->amount.amount, payment->amount.currency) +
                  " arrived after the order was " +
                  std::string(orders::StatusName(order->status)) + "; refund it";
    task.created_ms = ctx.order.now_ms;
    ctx.notify.InsertContactTask(task);
  }
  int64_t verified = ctx.order.orders.VerifiedPaymentAmount(order->id);
  bool covered = verified >= order->totals.total.amount;
  if (covered && order->status == OrderStatus::kPendingPayment) {
    orders::TransitionRequest to_paid;
    to_paid.to = OrderStatus::kPaid;
    to_paid.note = "verified payments cover the total";
    Result<Order> paid = orders::TransitionOrder(ctx.order, order->id, to_paid);
    if (!paid.ok()) return paid.status();
    TANDEM_RETURN_IF_ERROR(IssueInvoice(ctx, *paid).status());
    TellCustomer(ctx, *paid, "payment_received", "Payment received",
         "We have received your payment of " +
             Amount(payment->amount.amount, payment->amount.currency) +
             ". We are now preparing your order and will tell you when it leaves.");
    if (ctx.on_paid) TANDEM_RETURN_IF_ERROR(ctx.on_paid(*paid));
    return std::move(paid.value());
  }
  TellCustomer(ctx, *order, "payment_received", "Payment received",
       "We have received a payment of " +
           Amount(payment->amount.amount, payment->amount.currency) + "." +
           (covered ? std::string()
                    : " " + Amount(order->totals.total.amount - verified,
                                   order->totals.total.currency) +
                          " is still due."));
  return LoadOrder(ctx, order->id);
}

Result<Order> RejectPayment(PaymentContext& ctx, int64_t payment_id, const std::string& reason) {
  if (reason.empty()) return Status(Code::kInvalidArgument, "reason is required");
  Result<Payment> payment = LoadPayment(ctx, payment_id);
  if (!payment.ok()) return payment.status();
  Result<Order> order = LoadOrder(ctx, payment->order_id);
  if (!order.ok()) return order.status();
  if (!ctx.store.TryDecide(payment_id, {PaymentState::kPending, PaymentState::kSubmitted},
                           PaymentState::kRejected, ctx.order.actor, reason, "",
                           ctx.order.now_ms)) {
    return Status(Code::kInvalidTransition,
                  "the payment is " + std::string(StateName(payment->state)) +
                      "; only a pending or submitted payment can be rejected");
  }
  ctx.order.orders.AppendTimeline(
      order->id, {ctx.order.now_ms, ctx.order.actor, "", "",
                  "payment " + std::to_string(payment_id) + " rejected: " + reason,
                  "Payment not accepted: " + reason});
  TellCustomer(ctx, *order, "payment_rejected", "We could not accept your payment",
       "We could not accept your payment of " +
           Amount(payment->amount.amount, payment->amount.currency) + ": " + reason +
           "\nPlease pay again or reply to this message; your order is kept for now.");
  return std::move(order.value());
}

Status CollectAtDoor(PaymentContext& ctx, const Order& order) {
  int64_t due = order.totals.total.amount - ctx.order.orders.VerifiedPaymentAmount(order.id);
  if (due <= 0) return IssueInvoice(ctx, order).status();
  Payment p;
  p.order_id = order.id;
  p.method = order.payment_method;
  p.amount = {due, order.totals.total.currency};
  p.created_ms = p.updated_ms = ctx.order.now_ms;
  p.id = ctx.store.InsertPayment(p);
  TANDEM_CHECK(ctx.store.TryDecide(p.id, {PaymentState::kPending}, PaymentState::kVerified,
                                   ctx.order.actor, "", "", ctx.order.now_ms));
  return IssueInvoice(ctx, order).status();
}

Result<Payment> RefundSource(PaymentContext& ctx, int64_t order_id, int64_t amount,
                             std::optional<int64_t> payment_id) {
  std::vector<Payment> payments = ctx.store.PaymentsOfOrder(order_id);
  for (auto it = payments.rbegin(); it != payments.rend(); ++it) {
    if (payment_id && it->id != *payment_id) continue;
    if (it->state == PaymentState::kVerified && it->amount.amount - it->refunded >= amount) {
      return *it;
    }
    if (payment_id) break;
  }
  return Status(Code::kInvalidArgument,
                payment_id ? "that payment is not verified or has less than the amount left"
                           : "no verified payment of this order has that much left to refund");
}

Result<Refund> RefundOrder(PaymentContext& ctx, int64_t order_id, const RefundRequest& request) {
  if (request.reason.empty()) return Status(Code::kInvalidArgument, "reason is required");
  if (request.amount < 1) return Status(Code::kInvalidArgument, "amount must be at least 1");
  Result<Order> order = LoadOrder(ctx, order_id);
  if (!order.ok()) return order.status();
  Result<Payment> source = RefundSource(ctx, order_id, request.amount, request.payment_id);
  if (!source.ok()) return source.status();
  if (!ctx.store.TryAddRefunded(source->id, request.amount, ctx.order.now_ms)) {
    return Status(Code::kConflict, "the payment changed meanwhile; reload and retry");
  }
  Refund refund;
  refund.order_id = order_id;
  refund.payment_id = source->id;
  refund.amount = {request.amount, source->amount.currency};
  refund.reason = request.reason;
  refund.created_by = ctx.order.actor;
  refund.provider_refund = request.provider_refund;
  refund.created_ms = ctx.order.now_ms;
  refund.id = ctx.store.InsertRefund(refund);

  Invoice note = IssueDocument(ctx, DocumentKind::kCreditNote, order_id, refund.amount, refund.id);

  std::string amount = Amount(request.amount, source->amount.currency);
  ctx.order.orders.AppendTimeline(order_id, {ctx.order.now_ms, ctx.order.actor, "", "",
                                             "refunded " + amount + " (credit note " +
                                                 note.number + "): " + request.reason,
                                             "Refund of " + amount});
  // Everything given back before the goods left: the order is refunded and its stock returns.
  // After delivery the order is refunded too (the goods came back or were written off).
  if (ctx.order.orders.VerifiedPaymentAmount(order_id) == 0 &&
      order->status != OrderStatus::kPendingPayment && order->status != OrderStatus::kShipped &&
      order->status != OrderStatus::kCancelled && order->status != OrderStatus::kRefunded) {
    orders::TransitionRequest t;
    bool preparing =
        order->status == OrderStatus::kProcessing || order->status == OrderStatus::kReady;
    t.to = preparing ? OrderStatus::kCancelled : OrderStatus::kRefunded;
    t.note = "everything paid was refunded";
    Result<Order> refunded = orders::TransitionOrder(ctx.order, order_id, t);
    if (!refunded.ok()) return refunded.status();
  }
  TellCustomer(ctx, *order, "refund_issued", "Your refund",
       "We have refunded " + amount + " to you (credit note " + note.number + "). Reason: " +
           request.reason);
  return refund;
}

Result<Invoice> IssueInvoice(PaymentContext& ctx, const Order& order) {
  for (const Invoice& i : ctx.store.InvoicesOfOrder(order.id)) {
    if (i.kind == DocumentKind::kInvoice) return i;
  }
  Invoice invoice =
      IssueDocument(ctx, DocumentKind::kInvoice, order.id, order.totals.total, std::nullopt);
  ctx.order.orders.AppendTimeline(order.id, {ctx.order.now_ms, ctx.order.actor, "", "",
                                             "invoice " + invoice.number + " issued",
                                             "Invoice " + invoice.number});
  return invoice;
}

int ExpireUnpaidOrders(PaymentContext& ctx, int64_t bank_ttl_ms, int64_t card_ttl_ms, int limit) {
  int expired = 0;
  for (auto [method, ttl] : {std::pair{PaymentMethod::kBankTransfer, bank_ttl_ms},
                             std::pair{PaymentMethod::kCard, card_ttl_ms}}) {
    for (int64_t id : ctx.store.UnpaidOrdersBefore(method, ctx.order.now_ms - ttl, limit)) {
      orders::TransitionRequest t;
      t.to = OrderStatus::kCancelled;
      t.note = "unpaid after " + std::to_string(ttl / 60'000) + " minutes";
      t.public_note = "Cancelled: no payment arrived in time";
      Result<Order> order = orders::TransitionOrder(ctx.order, id, t);
      if (!order.ok()) continue;  // moved meanwhile (paid or cancelled): nothing to expire
      for (const Payment& p : ctx.store.PaymentsOfOrder(id)) {
        ctx.store.TryDecide(p.id, {PaymentState::kPending, PaymentState::kSubmitted},
                            PaymentState::kRejected, ctx.order.actor, "order expired unpaid", "",
                            ctx.order.now_ms);
      }
      TellCustomer(ctx, *order, "order_expired", "Your order was cancelled",
           "We did not receive the payment for your order in time, so we have cancelled it and "
           "released the items. You are welcome to order again.");
      ++expired;
    }
  }
  return expired;
}

}  // namespace tandem::payments
