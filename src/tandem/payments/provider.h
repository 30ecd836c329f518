// The card provider seam: a hosted payment page and refunds at an outside provider.
//
// Tandem asks the provider for a hosted payment session and redirects the shopper to its URL; the
// shopper types the card on the provider's page, never on Tandem's, and the outcome comes back by
// signed webhook (stripe_signature.h). Implementations: providers/stripe_client.h (Stripe's API,
// or the simulator tools/payment_provider.py that speaks it) and a fake for tests.
// Implementations are safe to call from any thread at once; calls block on the network.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/base/result.h"

namespace tandem::payments {

struct CardSessionRequest {
  int64_t order_id = 0;
  std::string order_number;    // TD-…, shown to the shopper on the hosted page
  int64_t amount_minor = 0;    // > 0
  std::string currency;        // ISO 4217, lower case as Stripe writes it ("myr")
  std::string customer_email;  // may be empty
  std::string success_url;     // may contain {CHECKOUT_SESSION_ID}, which the provider fills in
  std::string cancel_url;
  int64_t expires_at_s = 0;     // Unix seconds; Stripe takes 30 min to 24 h from now
  std::string idempotency_key;  // the same key gives the same session, however often sent
};

struct CardSession {
  std::string id;   // cs_…
  std::string url;  // the hosted page to redirect the shopper to
};

struct CardRefundRequest {
  std::string payment_intent;  // pi_… from the checkout.session.completed event
  int64_t amount_minor = 0;    // > 0, at most what is left to refund
  std::string idempotency_key;
};

class CardProvider {
 public:
  virtual ~CardProvider() = default;
  // A hosted payment session. kInvalidArgument when the provider refuses the request (its reason
  // in the message), kUnavailable when it cannot be reached or fails (worth retrying later with
  // the same idempotency key).
  virtual Result<CardSession> CreateSession(const CardSessionRequest& request) = 0;
  // Refunds part or all of a captured payment; returns the refund's id (re_…). Codes as above.
  virtual Result<std::string> Refund(const CardRefundRequest& request) = 0;
};

}  // namespace tandem::payments
