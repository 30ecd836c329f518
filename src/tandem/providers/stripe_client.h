// The card provider over Stripe's HTTP API (Checkout Sessions and Refunds), with libcurl.
//
// Pointed at https://api.stripe.com with a secret key it talks to Stripe; pointed at the
// simulator (tools/payment_provider.py, which speaks the same protocol) it needs no internet.
// Each call uses its own connection, so StripeClient is safe to call from any thread at once;
// a call blocks for at most the configured timeout.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/base/limits.h"
#include "tandem/base/result.h"
#include "tandem/payments/provider.h"

namespace tandem::providers {

// The Stripe API version Tandem's requests and the simulator's events are written for.
inline constexpr std::string_view kStripeApiVersion = "2024-06-20";

struct StripeConfig {
  std::string base_url;    // "https://api.stripe.com", or the simulator's "http://127.0.0.1:PORT"
  std::string secret_key;  // sk_live_… or sk_test_…; sent as a bearer token, never logged
  int connect_timeout_s = kProviderConnectTimeoutSecondsDefault;
  int timeout_s = kProviderRequestTimeoutSecondsDefault;  // the whole call
};

class StripeClient final : public payments::CardProvider {
 public:
  explicit StripeClient(StripeConfig config);

  // POST /v1/checkout/sessions (mode=payment, one line "Order TD-…"). kInvalidArgument for a
  // request Stripe refuses (4xx, with Stripe's error.message) or one Tandem would not send
  // (amount not positive, currency not three lower-case letters, a line break in a header);
  // kUnavailable when Stripe cannot be reached, times out, answers 5xx, 401/403 (a wrong secret
  // key: nothing the shopper can fix), 409 or 429 (retry later), or an answer without id and url.
  Result<payments::CardSession> CreateSession(const payments::CardSessionRequest& request) override;
  // POST /v1/refunds (payment_intent, amount); the refund's id. Codes as for CreateSession.
  Result<std::string> Refund(const payments::CardRefundRequest& request) override;

 private:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  struct Response {
    long status = 0;
    std::string body;
  };
  // POSTs `fields` form-encoded to base_url + path. kUnavailable when no answer came.
  Result<Response> Post(std::string_view path, const Fields& fields,
                        std::string_view idempotency_key) const;

  StripeConfig config_;
};

}  // namespace tandem::providers
