#include "tandem/orders/order.h"

#include <array>

#include "tandem/base/enum_names.h"
#include <utility>

namespace tandem::orders {
namespace {

constexpr std::array<std::pair<OrderStatus, std::string_view>, 9> kStatusNames{{
    {OrderStatus::kPendingPayment, "pending_payment"},
    {OrderStatus::kPaid, "paid"},
    {OrderStatus::kProcessing, "processing"},
    {OrderStatus::kReady, "ready"},
    {OrderStatus::kShipped, "shipped"},
    {OrderStatus::kDelivered, "delivered"},
    {OrderStatus::kCompleted, "completed"},
    {OrderStatus::kCancelled, "cancelled"},
    {OrderStatus::kRefunded, "refunded"},
}};

constexpr std::array<std::pair<FulfillmentMethod, std::string_view>, 2> kFulfillmentNames{{
    {FulfillmentMethod::kDelivery, "delivery"},
    {FulfillmentMethod::kPickup, "pickup"},
}};

constexpr std::array<std::pair<PaymentMethod, std::string_view>, 4> kPaymentNames{{
    {PaymentMethod::kCashOnDelivery, "cash_on_delivery"},
    {PaymentMethod::kBankTransfer, "bank_transfer"},
    {PaymentMethod::kCard, "card"},
    {PaymentMethod::kCashInStore, "cash_in_store"},
}};

bool Allowed(OrderStatus from, OrderStatus to, const TransitionFacts& facts) {
  using S = OrderStatus;
  switch (from) {
    case S::kPendingPayment:
      return to == S::kPaid || to == S::kCancelled ||
             (to == S::kProcessing && (facts.payment == PaymentMethod::kCashOnDelivery ||
                                       facts.payment == PaymentMethod::kCashInStore));
    case S::kPaid:
      return to == S::kProcessing || to == S::kCancelled || to == S::kRefunded;
    case S::kProcessing:
      return to == S::kReady || to == S::kCancelled;
    case S::kReady:
      if (to == S::kCancelled) return true;
      return facts.fulfillment == FulfillmentMethod::kDelivery ? to == S::kShipped
                                                               : to == S::kDelivered;
    case S::kShipped:
      return to == S::kDelivered;
    case S::kDelivered:
      return to == S::kCompleted || to == S::kRefunded;
    case S::kCompleted:
      return to == S::kRefunded;
    case S::kCancelled:
    case S::kRefunded:
      return false;
  }
  return false;
}

}  // namespace

std::string_view StatusName(OrderStatus s) { return NameOf(kStatusNames, s); }
std::optional<OrderStatus> ParseStatus(std::string_view n) { return ParseName(kStatusNames, n); }
std::string_view FulfillmentName(FulfillmentMethod m) { return NameOf(kFulfillmentNames, m); }
std::optional<FulfillmentMethod> ParseFulfillment(std::string_view n) {
  return ParseName(kFulfillmentNames, n);
}
std::string_view PaymentMethodName(PaymentMethod m) { return NameOf(kPaymentNames, m); }
std::optional<PaymentMethod> ParsePaymentMethod(std::string_view n) {
  return ParseName(kPaymentNames, n);
}

Result<OrderStatus> Transition(OrderStatus from, OrderStatus to, const TransitionFacts& facts) {
  if (!Allowed(from, to, facts)) {
    return Status(Code::kInvalidTransition, "an order cannot go from " +
                                                std::string(StatusName(from)) + " to " +
                                                std::string(StatusName(to)));
  }
  return to;
}

bool HoldsAllocation(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPendingPayment:
    case OrderStatus::kPaid:
    case OrderStatus::kProcessing:
    case OrderStatus::kReady:
      return true;
    case OrderStatus::kShipped:
    case OrderStatus::kDelivered:
    case OrderStatus::kCompleted:
    case OrderStatus::kCancelled:
    case OrderStatus::kRefunded:
      return false;
  }
  return false;
}

Status ValidateAddress(const Address& a) {
  auto bad = [](const std::string& s, size_t max) { return s.empty() || s.size() > max; };
  if (bad(a.name, 200)) return Status(Code::kInvalidArgument, "address.name is required");
  if (bad(a.line1, 200)) return Status(Code::kInvalidArgument, "address.line1 is required");
  if (a.line2.size() > 200) return Status(Code::kInvalidArgument, "address.line2 is too long");
  if (bad(a.city, 100)) return Status(Code::kInvalidArgument, "address.city is required");
  if (bad(a.postcode, 20)) return Status(Code::kInvalidArgument, "address.postcode is required");
  if (a.country.size() != 2) {
    return Status(Code::kInvalidArgument, "address.country must be a two-letter code");
  }
  if (a.phone.size() > 40) return Status(Code::kInvalidArgument, "address.phone is too long");
  return Status::Ok();
}

}  // namespace tandem::orders
