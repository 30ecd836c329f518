#include "tandem/payments/stripe_signature.h"

#include <sodium.h>

#include <array>
#include <charconv>

namespace tandem::payments {
namespace {

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

// A Unix time in seconds with more digits than this is not a timestamp (and could overflow).
constexpr size_t kTimestampDigitsMax = 12;

Mac ComputeMac(std::string_view secret, std::string_view timestamp, std::string_view body) {
  // crypto_auth_hmacsha256_init takes a key of any length (longer ones are hashed, as HMAC says).
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  auto update = [&state](std::string_view part) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  };
  update(timestamp);
  update(".");
  update(body);
  Mac mac;
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

Status Refuse(std::string reason) {
  return Status(Code::kUnauthorized, "webhook signature: " + std::move(reason));
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string SignStripePayload(std::string_view secret, int64_t timestamp_s, std::string_view body) {
  const std::string timestamp = std::to_string(timestamp_s);
  const Mac mac = ComputeMac(secret, timestamp, body);
  std::array<char, 2 * mac.size() + 1> hex;
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  return "t=" + timestamp + ",v1=" + hex.data();
}

Status VerifyStripeSignature(std::string_view header, std::string_view body,
                             std::string_view secret, int64_t now_s, int64_t tolerance_s) {
  TANDEM_CHECK(tolerance_s >= 0);
  if (secret.empty()) return Refuse("no webhook secret is configured");
  if (header.empty()) return Refuse("missing Stripe-Signature header");
  if (header.size() > kWebhookSignatureHeaderBytesMax) return Refuse("header too long");

  // One pass over the items; the header's length bounds their number.
  std::string_view timestamp;
  bool any_v1 = false;
  std::array<std::string_view, kWebhookSignatureHeaderBytesMax / 4> v1s;  // "v1=x," at least
  size_t v1_count = 0;
  std::string_view rest = header;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = TrimSpaces(rest.substr(0, comma));
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return Refuse("garbled header");
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (!timestamp.empty()) return Refuse("garbled header: two timestamps");
      timestamp = value;
    } else if (key == "v1") {
      any_v1 = true;
      TANDEM_CHECK(v1_count < v1s.size());
      v1s[v1_count++] = value;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }

  if (timestamp.empty()) return Refuse("garbled header: no timestamp");
  int64_t t = 0;
  const char* const digits_end = timestamp.data() + timestamp.size();
  const auto [end, error] = std::from_chars(timestamp.data(), digits_end, t);
  if (timestamp.size() > kTimestampDigitsMax || error != std::errc() || end != digits_end ||
      t < 0) {
    return Refuse("garbled header: timestamp is not a number");
  }
  if (!any_v1) return Refuse("no v1 signature");

  const Mac expected = ComputeMac(secret, timestamp, body);
  bool match = false;
  for (size_t i = 0; i < v1_count; ++i) {
    Mac given;
    size_t given_len = 0;
    const char* hex_end = nullptr;
    if (sodium_hex2bin(given.data(), given.size(), v1s[i].data(), v1s[i].size(), nullptr,
                       &given_len, &hex_end) != 0 ||
        given_len != given.size() || hex_end != v1s[i].data() + v1s[i].size()) {
      continue;  // not a SHA-256 MAC in hex: matches nothing
    }
    // Every candidate is compared, so the time taken does not say which one matched.
    match |= sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
  }
  if (!match) return Refuse("no v1 signature matches");

  // Both ways: a clock ahead of ours is no excuse for a body signed for later use.
  if (t < now_s - tolerance_s || t > now_s + tolerance_s) {
    return Refuse("timestamp outside the tolerance of " + std::to_string(tolerance_s) + " s");
  }
  return Status::Ok();
}

}  // namespace tandem::payments
