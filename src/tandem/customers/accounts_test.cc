#include "tandem/customers/accounts.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <map>
#include <vector>

#include "tandem/base/crypto.h"

namespace tandem::customers {
namespace {

// Accounts and sessions in memory; counts the writes.
class MemoryAccountStore final : public AccountStore {
 public:
  int64_t InsertAccount(const Account& account) override {
    Account a = account;
    a.id = static_cast<int64_t>(accounts.size()) + 1;
    accounts[a.id] = a;
    return a.id;
  }
  std::optional<Account> FindAccount(int64_t id) override {
    auto it = accounts.find(id);
    if (it == accounts.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Account> FindAccountByEmail(const std::string& email) override {
    for (auto& [id, a] : accounts) {
      if (a.email == email) return a;
    }
    return std::nullopt;
  }
  bool ReplacePasswordHash(int64_t id, const std::string& old_hash,
                           const std::string& new_hash) override {
    ++writes;
    auto it = accounts.find(id);
    if (it == accounts.end() || it->second.password_hash != old_hash) return false;
    it->second.password_hash = new_hash;
    return true;
  }
  void InsertSession(const Session& session) override {
    ++writes;
    sessions[session.token_hash] = session;
  }
  std::optional<Session> FindSession(const std::string& token_hash) override {
    auto it = sessions.find(token_hash);
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }
  void RevokeSession(const std::string& token_hash) override {
    ++writes;
    sessions[token_hash].revoked = true;
  }
  bool ExtendSession(const std::string& token_hash, int64_t expires_ms, int64_t now_ms) override {
    ++writes;
    auto it = sessions.find(token_hash);
    if (it == sessions.end() || it->second.revoked || it->second.expires_ms <= now_ms ||
        it->second.expires_ms >= expires_ms) {
      return false;
    }
    it->second.expires_ms = expires_ms;
    return true;
  }

  std::map<int64_t, Account> accounts;
  std::map<std::string, Session> sessions;
  int writes = 0;
};

constexpr int64_t kNow = 1'800'000'000'000;
constexpr int64_t kTtl = 30LL * 24 * 3600 * 1000;

Account WithHash(std::string hash) {
  Account a;
  a.id = 1;
  a.email = "aisyah@example.my";
  a.password_hash = std::move(hash);
  return a;
}

TEST(CheckPassword, UpgradesAnOldHashOnlyWhenThePasswordIsRight) {
  ASSERT_TRUE(InitCrypto());
  Account old = WithHash(HashPasswordWith("correct horse", crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE));
  PasswordCheck right = CheckPassword(old, "correct horse");
  EXPECT_TRUE(right.ok);
  EXPECT_EQ(right.new_hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << right.new_hash;
  EXPECT_TRUE(VerifyPassword("correct horse", right.new_hash));
  PasswordCheck wrong = CheckPassword(old, "wrong horse");
  EXPECT_FALSE(wrong.ok);
  EXPECT_TRUE(wrong.new_hash.empty());
}

TEST(CheckPassword, KeepsACurrentHashAndRefusesWhoIsNotRegistered) {
  ASSERT_TRUE(InitCrypto());
  PasswordCheck current = CheckPassword(WithHash(HashPassword("correct horse")), "correct horse");
  EXPECT_TRUE(current.ok);
  EXPECT_TRUE(current.new_hash.empty());
  EXPECT_FALSE(CheckPassword(std::nullopt, "not-a-real-password").ok);
}

TEST(StartSession, InsertsASessionOfTheTtlAndStoresTheUpgradedHash) {
  ASSERT_TRUE(InitCrypto());
  MemoryAccountStore store;
  Account a = WithHash("old-hash");
  a.id = store.InsertAccount(a);
  Session s = StartSession(store, a, PasswordCheck{true, "new-hash"}, "t1", kNow, kTtl);
  EXPECT_EQ(s.expires_ms, kNow + kTtl);
  EXPECT_EQ(store.FindSession("t1")->account_id, a.id);
  EXPECT_EQ(store.FindAccount(a.id)->password_hash, "new-hash");
  // Without a new hash the stored one stays; a hash changed meanwhile is not overwritten.
  StartSession(store, a, PasswordCheck{true, ""}, "t2", kNow, kTtl);
  EXPECT_EQ(store.FindAccount(a.id)->password_hash, "new-hash");
  StartSession(store, a, PasswordCheck{true, "stale-upgrade"}, "t3", kNow, kTtl);
  EXPECT_EQ(store.FindAccount(a.id)->password_hash, "new-hash");
}

TEST(SessionDueForRenewal, OnlyOnceLessThanHalfTheTtlIsLeft) {
  Session s{"t", 1, kNow, kNow + kTtl, false};
  EXPECT_FALSE(SessionDueForRenewal(s, kNow, kTtl));
  EXPECT_FALSE(SessionDueForRenewal(s, kNow + kTtl / 2, kTtl));  // exactly half left
  EXPECT_TRUE(SessionDueForRenewal(s, kNow + kTtl / 2 + 1, kTtl));
  EXPECT_TRUE(SessionDueForRenewal(s, kNow + kTtl - 1, kTtl));
  EXPECT_FALSE(SessionDueForRenewal(s, kNow + kTtl, kTtl));  // expired
  s.revoked = true;
  EXPECT_FALSE(SessionDueForRenewal(s, kNow + kTtl - 1, kTtl));
}

TEST(Authenticate, ReturnsTheSessionAndARenewedSessionLastsAFullTtlAgain) {
  ASSERT_TRUE(InitCrypto());
  MemoryAccountStore store;
  Account a = WithHash("h");
  a.id = store.InsertAccount(a);
  StartSession(store, a, PasswordCheck{true, ""}, HashToken("token"), kNow, kTtl);
  const int64_t later = kNow + kTtl * 3 / 4;
  std::optional<Authenticated> found = Authenticate(store, "token", later);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->account.id, a.id);
  ASSERT_TRUE(SessionDueForRenewal(found->session, later, kTtl));
  EXPECT_TRUE(RenewSession(store, found->session.token_hash, later, kTtl));
  EXPECT_TRUE(Authenticate(store, "token", kNow + kTtl + 1).has_value());  // past the first TTL
  EXPECT_FALSE(Authenticate(store, "token", later + kTtl).has_value());
  EXPECT_FALSE(Authenticate(store, "other", later).has_value());
}

TEST(NormalizeEmail, LowerCasesAndTrims) {
  EXPECT_EQ(NormalizeEmail("  Aisyah@Example.MY "), "aisyah@example.my");
}

TEST(NormalizeEmail, RefusesWhatIsNotAnAddress) {
  EXPECT_EQ(NormalizeEmail("no-at-sign"), "");
  EXPECT_EQ(NormalizeEmail("@example.my"), "");
  EXPECT_EQ(NormalizeEmail("a@b@c"), "");
  EXPECT_EQ(NormalizeEmail("a b@c.my"), "");
  EXPECT_EQ(NormalizeEmail("a@"), "");
}

TEST(ValidateRegistration, EnforcesPasswordBounds) {
  Registration r{"a@b.my", std::string(8, 'x'), "A", "", false, Role::kCustomer};
  EXPECT_TRUE(ValidateRegistration(r).ok());
  r.password = std::string(7, 'x');
  EXPECT_EQ(ValidateRegistration(r).code(), Code::kInvalidArgument);
  r.password = std::string(200, 'x');
  EXPECT_TRUE(ValidateRegistration(r).ok());
  r.password = std::string(201, 'x');
  EXPECT_FALSE(ValidateRegistration(r).ok());
}

TEST(Roles, RoundTripAndKnowStaff) {
  for (Role r : {Role::kCustomer, Role::kAdmin, Role::kMerchant, Role::kOps, Role::kClerk}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(IsStaff(Role::kCustomer));
  EXPECT_TRUE(IsStaff(Role::kClerk));
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace tandem::customers
