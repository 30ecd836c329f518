#include "tandem/base/crypto.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

TEST(RandomToken, NeverRepeatsAcrossSizesAndThreads) {
  ASSERT_TRUE(InitCrypto());
  // Random bytes come from a pool per thread: no byte may be handed out twice, whether a draw
  // fits in what is left of the pool, empties it, or is larger than the pool.
  std::mutex mu;
  std::set<std::string> seen;
  size_t drawn = 0;
  auto draw = [&] {
    std::vector<std::string> mine;
    for (int i = 0; i < 3000; ++i) {
      for (size_t bytes : {size_t{24}, size_t{7}, size_t{32}}) mine.push_back(RandomToken(bytes));
      if (i % 500 == 0) mine.push_back(RandomToken(300));
    }
    std::lock_guard lock(mu);
    drawn += mine.size();
    seen.insert(mine.begin(), mine.end());
  };
  std::thread other(draw);
  draw();
  other.join();
  EXPECT_EQ(seen.size(), drawn);
}

TEST(TimeOrderedCode, LaterCodesCompareGreaterAndKeepTheirRandomPart) {
  ASSERT_TRUE(InitCrypto());
  const std::string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const int64_t t = 1'797'033'600'000;  // 2026-12-12 00:00:00 UTC
  std::string first = TimeOrderedCode(t, 12);
  ASSERT_EQ(first.size(), 21u);
  for (char c : first) ASSERT_NE(alphabet.find(c), std::string::npos) << first;
  EXPECT_EQ(TimeOrderedCode(t, 12).substr(0, 9), first.substr(0, 9));  // the same millisecond
  // Every value of the last letter, a carry into the next one, and larger steps, up to the year
  // 3000.
  std::string previous = first;
  for (int64_t step = 1; step <= 80; ++step) {
    int64_t ms = step <= 64 ? t + step : t + (step - 64) * int64_t{86'400'000} * 365 * 60;
    std::string code = TimeOrderedCode(ms, 12);
    EXPECT_GT(code.substr(0, 9), previous.substr(0, 9)) << ms;
    previous = code;
  }
  // The random part differs between codes of the same millisecond.
  EXPECT_NE(TimeOrderedCode(t, 12), TimeOrderedCode(t, 12));
}

TEST(ShortHash, IsTheSameForTheSameBytesAndDiffersForOthers) {
  EXPECT_EQ(ShortHash("a@example.my"), ShortHash(std::string("a@example.my")));
  EXPECT_NE(ShortHash("a@example.my"), ShortHash("b@example.my"));
  EXPECT_NE(ShortHash(""), ShortHash(std::string_view("\0", 1)));
}

TEST(HashPassword, MakesArgon2idWithTheChosenParametersInTheString) {
  ASSERT_TRUE(InitCrypto());
  std::string hash = HashPassword("correct horse");
  // 19 MiB = 19,456 KiB, two passes, one lane: the parameters travel with the hash.
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
  EXPECT_TRUE(VerifyPassword("correct horse", hash));
  EXPECT_FALSE(VerifyPassword("correct horse!", hash));
  EXPECT_FALSE(PasswordNeedsRehash(hash));
  EXPECT_NE(HashPassword("correct horse"), hash) << "a new salt each time";
}

TEST(PasswordNeedsRehash, IsTrueForAHashWithOtherParametersWhichStillVerifies) {
  ASSERT_TRUE(InitCrypto());
  // How Tandem hashed before: libsodium's "interactive" setting, 64 MiB.
  std::string old = HashPasswordWith("correct horse", crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE);
  EXPECT_EQ(old.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << old;
  EXPECT_TRUE(VerifyPassword("correct horse", old));
  EXPECT_TRUE(PasswordNeedsRehash(old));
  EXPECT_TRUE(PasswordNeedsRehash(HashPasswordWith("x", 3, kPasswordHashMemoryBytes)));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash"));
  EXPECT_FALSE(VerifyPassword("not a hash", "not a hash"));
}

}  // namespace
}  // namespace tandem
