#include "tandem/orders/order.h"

#include <gtest/gtest.h>

#include "tandem/orders/service.h"

namespace tandem::orders {
namespace {

using S = OrderStatus;
const TransitionFacts kCodDelivery{PaymentMethod::kCashOnDelivery, FulfillmentMethod::kDelivery};
const TransitionFacts kCardPickup{PaymentMethod::kCard, FulfillmentMethod::kPickup};

TEST(Transition, WalksTheDeliveryPath) {
  S path[] = {S::kPendingPayment, S::kPaid, S::kProcessing, S::kReady,
              S::kShipped,        S::kDelivered, S::kCompleted};
  for (size_t i = 0; i + 1 < std::size(path); ++i) {
    Result<S> next = Transition(path[i], path[i + 1], kCodDelivery);
    ASSERT_TRUE(next.ok()) << StatusName(path[i]) << " -> " << StatusName(path[i + 1]);
    EXPECT_EQ(*next, path[i + 1]);
  }
}

TEST(Transition, CashOnDeliveryMayBeProcessedUnpaidButCardMayNot) {
  EXPECT_TRUE(Transition(S::kPendingPayment, S::kProcessing, kCodDelivery).ok());
  Result<S> card = Transition(S::kPendingPayment, S::kProcessing, kCardPickup);
  ASSERT_FALSE(card.ok());
  EXPECT_EQ(card.status().code(), Code::kInvalidTransition);
}

TEST(Transition, PickupIsHandedOverNotShipped) {
  EXPECT_TRUE(Transition(S::kReady, S::kDelivered, kCardPickup).ok());
  EXPECT_FALSE(Transition(S::kReady, S::kShipped, kCardPickup).ok());
  EXPECT_FALSE(Transition(S::kReady, S::kDelivered, kCodDelivery).ok());
}

TEST(Transition, RefusesIllegalMoves) {
  EXPECT_FALSE(Transition(S::kPendingPayment, S::kShipped, kCodDelivery).ok());
  EXPECT_FALSE(Transition(S::kShipped, S::kCancelled, kCodDelivery).ok());
  EXPECT_FALSE(Transition(S::kDelivered, S::kProcessing, kCodDelivery).ok());
  EXPECT_FALSE(Transition(S::kCancelled, S::kPaid, kCodDelivery).ok());
  EXPECT_FALSE(Transition(S::kRefunded, S::kCompleted, kCodDelivery).ok());
  EXPECT_FALSE(Transition(S::kPaid, S::kPaid, kCodDelivery).ok());
}

TEST(Transition, CancelsOnlyBeforeShipping) {
  for (S s : {S::kPendingPayment, S::kPaid, S::kProcessing, S::kReady}) {
    EXPECT_TRUE(Transition(s, S::kCancelled, kCodDelivery).ok()) << StatusName(s);
    EXPECT_TRUE(HoldsAllocation(s));
  }
  for (S s : {S::kShipped, S::kDelivered, S::kCompleted, S::kCancelled, S::kRefunded}) {
    EXPECT_FALSE(Transition(s, S::kCancelled, kCodDelivery).ok()) << StatusName(s);
    EXPECT_FALSE(HoldsAllocation(s));
  }
}

TEST(Names, RoundTrip) {
  for (S s : {S::kPendingPayment, S::kPaid, S::kProcessing, S::kReady, S::kShipped, S::kDelivered,
              S::kCompleted, S::kCancelled, S::kRefunded}) {
    EXPECT_EQ(ParseStatus(StatusName(s)), s);
  }
  EXPECT_FALSE(ParseStatus("lost").has_value());
  EXPECT_EQ(ParsePaymentMethod("cash_on_delivery"), PaymentMethod::kCashOnDelivery);
}

TEST(Shipping, IsFreeForPickupAndAboveTheThreshold) {
  Fulfillment delivery;
  Fulfillment pickup;
  pickup.method = FulfillmentMethod::kPickup;
  EXPECT_EQ(ShippingFor(delivery, {5000, "MYR"}).amount, 800);
  EXPECT_EQ(ShippingFor(delivery, {15000, "MYR"}).amount, 0);
  EXPECT_EQ(ShippingFor(pickup, {5000, "MYR"}).amount, 0);
  delivery.service = "express";
  EXPECT_EQ(ShippingFor(delivery, {50000, "MYR"}).amount, 1500);
}

TEST(Address, NeedsTheFieldsACarrierNeeds) {
  Address a{"Aisyah", "1 Jalan Ampang", "", "Kuala Lumpur", "50450", "MY", ""};
  EXPECT_TRUE(ValidateAddress(a).ok());
  a.country = "MYS";
  EXPECT_FALSE(ValidateAddress(a).ok());
  a.country = "MY";
  a.postcode = "";
  EXPECT_FALSE(ValidateAddress(a).ok());
}

}  // namespace
}  // namespace tandem::orders
