// The signature of a card provider's webhook, in Stripe's scheme: the `Stripe-Signature` header
// carries `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>` (several v1 values
// while a secret is being rolled; other schemes such as v0 are ignored). A verified signature
// proves who sent the body and when; the replay window refuses a body sent again much later.
// Applying each event once is the caller's job (by event id).
//
// Pure functions; safe from any thread once sodium_init has run (base/crypto.h, InitCrypto).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/base/limits.h"
#include "tandem/base/result.h"

namespace tandem::payments {

// The whole header value `t=<timestamp_s>,v1=<64 lower-case hex digits>` for `body` under
// `secret` (the endpoint's `whsec_…` string, used as the key byte for byte, as Stripe does).
std::string SignStripePayload(std::string_view secret, int64_t timestamp_s, std::string_view body);

// Ok when `header` is a well-formed Stripe-Signature value of at most
// kWebhookSignatureHeaderBytesMax bytes, one of its v1 values is the MAC of `body` under `secret`
// (compared in constant time), and its timestamp is within `tolerance_s` (>= 0) of `now_s`, either
// way. Otherwise kUnauthorized, with the reason: missing, too long or garbled header, no v1, no v1
// that matches, timestamp outside the window, or an empty secret (fails closed).
Status VerifyStripeSignature(std::string_view header, std::string_view body,
                             std::string_view secret, int64_t now_s,
                             int64_t tolerance_s = kWebhookToleranceSecondsDefault);

}  // namespace tandem::payments
