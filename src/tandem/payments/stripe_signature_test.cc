#include "tandem/payments/stripe_signature.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "tandem/base/crypto.h"

namespace tandem::payments {
namespace {

constexpr std::string_view kSecret = "whsec_test_secret";
constexpr std::string_view kBody = R"({"id":"evt_1","type":"checkout.session.completed"})";
constexpr int64_t kT = 1'700'000'000;
// Python: hmac.new(b"whsec_test_secret", b"1700000000." + body, hashlib.sha256).hexdigest()
constexpr std::string_view kKnownMac =
    "a13d4b1f9003bc2fb6c06224e878b6056185eaa50d40e1e7dc05517f8af41d7b";

std::string Header(std::string_view mac, int64_t t = kT) {
  return "t=" + std::to_string(t) + ",v1=" + std::string(mac);
}

void ExpectRefused(const Status& status, std::string_view reason_part) {
  EXPECT_EQ(status.code(), Code::kUnauthorized) << status.message();
  EXPECT_NE(status.message().find(reason_part), std::string::npos) << status.message();
}

class StripeSignature : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(StripeSignature, SignsAsStripeDoes) {
  EXPECT_EQ(SignStripePayload(kSecret, kT, kBody), Header(kKnownMac));
  // A key longer than a SHA-256 block is hashed first, as HMAC says (Python's hmac agrees).
  EXPECT_EQ(SignStripePayload(std::string(100, 'k'), kT, "body"),
            Header("2defc100e3c9242d415387665cef3b691aba8f4600bb534d82dc474f16dd5a25"));
}

TEST_F(StripeSignature, AcceptsTheKnownVectorWithinTheWindow) {
  EXPECT_TRUE(VerifyStripeSignature(Header(kKnownMac), kBody, kSecret, kT).ok());
  EXPECT_TRUE(VerifyStripeSignature(Header(kKnownMac), kBody, kSecret, kT + 300).ok());
  EXPECT_TRUE(VerifyStripeSignature(Header(kKnownMac), kBody, kSecret, kT - 300).ok());
  // Upper-case hex and spaces after commas are the same signature.
  std::string upper(kKnownMac);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifyStripeSignature("t=1700000000, v1=" + upper, kBody, kSecret, kT).ok());
}

TEST_F(StripeSignature, RefusesATamperedBody) {
  std::string body(kBody);
  body[body.size() - 3] = 'D';
  ExpectRefused(VerifyStripeSignature(Header(kKnownMac), body, kSecret, kT),
                "no v1 signature matches");
  ExpectRefused(VerifyStripeSignature(Header(kKnownMac), std::string(kBody) + " ", kSecret, kT),
                "matches");
}

TEST_F(StripeSignature, RefusesTheWrongSecret) {
  ExpectRefused(VerifyStripeSignature(Header(kKnownMac), kBody, "whsec_other", kT), "matches");
  ExpectRefused(VerifyStripeSignature(Header(kKnownMac), kBody, "", kT), "no webhook secret");
}

TEST_F(StripeSignature, RefusesATimestampThatWasNotSigned) {
  // The MAC covers the timestamp: moving it (to slip into the window) breaks the signature.
  ExpectRefused(VerifyStripeSignature(Header(kKnownMac, kT + 1), kBody, kSecret, kT + 1),
                "matches");
}

TEST_F(StripeSignature, RefusesAnOldTimestampOutsideTheReplayWindow) {
  const std::string header = SignStripePayload(kSecret, kT, kBody);
  ExpectRefused(VerifyStripeSignature(header, kBody, kSecret, kT + 301), "tolerance");
  ExpectRefused(VerifyStripeSignature(header, kBody, kSecret, kT + 86'400), "tolerance");
  EXPECT_TRUE(VerifyStripeSignature(header, kBody, kSecret, kT + 3600, 3600).ok());
  ExpectRefused(VerifyStripeSignature(header, kBody, kSecret, kT + 3601, 3600), "tolerance");
}

TEST_F(StripeSignature, RefusesAFutureTimestampOutsideTheReplayWindow) {
  const std::string header = SignStripePayload(kSecret, kT, kBody);
  ExpectRefused(VerifyStripeSignature(header, kBody, kSecret, kT - 301), "tolerance");
  ExpectRefused(VerifyStripeSignature(header, kBody, kSecret, kT - 10, 0), "tolerance");
  EXPECT_TRUE(VerifyStripeSignature(header, kBody, kSecret, kT, 0).ok());
}

TEST_F(StripeSignature, AcceptsAnyOfSeveralV1ValuesAndIgnoresOtherSchemes) {
  const std::string signed_old = SignStripePayload("whsec_old", kT, kBody);
  const std::string other = signed_old.substr(signed_old.find(",v1=") + 1);  // "v1=…"
  ASSERT_EQ(other.substr(0, 3), "v1=");
  const std::string fake_v0 = "v0=" + std::string(64, '0');
  EXPECT_TRUE(VerifyStripeSignature("t=1700000000," + other + ",v1=" + std::string(kKnownMac),
                                    kBody, kSecret, kT)
                  .ok());
  EXPECT_TRUE(VerifyStripeSignature(
                  "t=1700000000,v1=" + std::string(kKnownMac) + "," + other + "," + fake_v0, kBody,
                  kSecret, kT)
                  .ok());
  // A v1 that is not 64 hex digits matches nothing but spoils nothing.
  EXPECT_TRUE(VerifyStripeSignature(
                  "t=1700000000,v1=zz,v1=" + std::string(kKnownMac) + ",v1=", kBody, kSecret, kT)
                  .ok());
  // The known MAC under a v0 label is not a v1 signature.
  ExpectRefused(
      VerifyStripeSignature("t=1700000000,v0=" + std::string(kKnownMac), kBody, kSecret, kT),
      "no v1 signature");
  ExpectRefused(VerifyStripeSignature("t=1700000000," + other + "," + fake_v0, kBody, kSecret, kT),
                "matches");
}

TEST_F(StripeSignature, RefusesMissingAndGarbledHeaders) {
  const std::string mac(kKnownMac);
  struct Case {
    std::string header;
    std::string_view reason;
  };
  const Case cases[] = {
      {"", "missing"},
      {"garbage", "garbled"},
      {",", "garbled"},
      {"t=1700000000,", "garbled"},
      {"=1700000000,v1=" + mac, "garbled"},
      {"v1=" + mac, "no timestamp"},
      {"t=,v1=" + mac, "no timestamp"},
      {"t=1700000000", "no v1"},
      {"t=1700000000,v0=" + mac, "no v1"},
      {"t=17000000x0,v1=" + mac, "not a number"},
      {"t=-1700000000,v1=" + mac, "not a number"},
      {"t=+1700000000,v1=" + mac, "not a number"},
      {"t=1700000000000000000000,v1=" + mac, "not a number"},
      {"t=1700000000,t=1700000000,v1=" + mac, "two timestamps"},
      {"t=1700000000;v1=" + mac, "not a number"},
      {"t=1700000000,v1=" + mac.substr(0, 63), "matches"},
      {"t=1700000000,v1=" + mac + "00", "matches"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    ExpectRefused(VerifyStripeSignature(c.header, kBody, kSecret, kT), c.reason);
  }
}

TEST_F(StripeSignature, RefusesAHeaderPastItsLengthLimit) {
  // The signature first, then padding of ignored items up to the limit and one past it.
  std::string header = Header(kKnownMac) + ",x=";
  header.resize(kWebhookSignatureHeaderBytesMax, 'a');
  EXPECT_TRUE(VerifyStripeSignature(header, kBody, kSecret, kT).ok());
  ExpectRefused(VerifyStripeSignature(header + "a", kBody, kSecret, kT), "too long");
  // As many v1 items as fit in the limit are all looked at.
  std::string many = "t=1700000000";
  while (many.size() + 4 + kKnownMac.size() + 1 <= kWebhookSignatureHeaderBytesMax) many += ",v1=";
  many += "," + std::string("v1=") + std::string(kKnownMac);
  ASSERT_LE(many.size(), kWebhookSignatureHeaderBytesMax);
  EXPECT_TRUE(VerifyStripeSignature(many, kBody, kSecret, kT).ok());
}

}  // namespace
}  // namespace tandem::payments
