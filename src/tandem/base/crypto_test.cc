#include "tandem/base/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tandem {
namespace {

TEST(RandomCode, UsesEveryLetterOfItsAlphabetAndNoOther) {
  ASSERT_TRUE(InitCrypto());
  const std::string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::set<char> seen;
  std::set<std::string> codes;
  for (int i = 0; i < 200; ++i) {
    std::string code = RandomCode(12);
    ASSERT_EQ(code.size(), 12u);
    for (char c : code) {
      ASSERT_NE(alphabet.find(c), std::string::npos) << code;
      seen.insert(c);
    }
    codes.insert(code);
  }
  // 2,400 letters drawn evenly from 32: missing one has a chance of about 32 × (31/32)^2400.
  EXPECT_EQ(seen.size(), alphabet.size());
  EXPECT_EQ(codes.size(), 200u);
}

}  // namespace
}  // namespace tandem
