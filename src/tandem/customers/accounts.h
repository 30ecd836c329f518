// Accounts of customers and staff, their sessions, and the AccountStore seam.
//
// Password hashing (argon2id) is slow on purpose, so callers hash *outside* a transaction, on the
// password-hashing threads: ValidateRegistration → HashPassword → inside the transaction
// CreateAccount; FindAccountByEmail (a read) → CheckPassword → inside the transaction
// StartSession. Sessions slide: a session in use is renewed (RenewSession) once less than half
// of its lifetime is left, so that it is written at most once per half lifetime, not per request.
// Types are values; AccountStore is used inside one transaction by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/base/result.h"

namespace tandem::customers {

enum class Role { kCustomer, kAdmin, kMerchant, kOps, kClerk };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
inline bool IsStaff(Role role) { return role != Role::kCustomer; }

struct Account {
  int64_t id = 0;
  std::string email;  // lower-case
  std::string name;
  std::string phone;
  Role role = Role::kCustomer;
  std::string password_hash;
  bool newsletter_opt_in = false;
  int64_t consent_at_ms = 0;   // when newsletter consent was given (0: never)
  std::string consent_source;  // how: "registration", "checkout"
  int64_t created_ms = 0;
  std::optional<int64_t> location_id;  // a clerk's store
};

struct Session {
  std::string token_hash;
  int64_t account_id = 0;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  bool revoked = false;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  virtual int64_t InsertAccount(const Account& account) = 0;
  virtual std::optional<Account> FindAccount(int64_t id) = 0;
  virtual std::optional<Account> FindAccountByEmail(const std::string& email) = 0;
  // Stores `new_hash` as the account's password hash if it is still `old_hash`; false otherwise
  // (the password changed since `old_hash` was read, or there is no such account).
  virtual bool ReplacePasswordHash(int64_t account_id, const std::string& old_hash,
                                   const std::string& new_hash) = 0;
  virtual void InsertSession(const Session& session) = 0;
  virtual std::optional<Session> FindSession(const std::string& token_hash) = 0;
  virtual void RevokeSession(const std::string& token_hash) = 0;
  // Sets a session's expiry to `expires_ms` if it is neither revoked nor expired at `now_ms` and
  // expires earlier; false otherwise.
  virtual bool ExtendSession(const std::string& token_hash, int64_t expires_ms, int64_t now_ms) = 0;
};

struct Registration {
  std::string email;
  std::string password;
  std::string name;
  std::string phone;
  bool newsletter_opt_in = false;
  Role role = Role::kCustomer;
  std::optional<int64_t> location_id;  // for clerks: their store
};

// Lower-cases and trims an e-mail address; empty when it is not plausibly one.
std::string NormalizeEmail(std::string_view email);
// Checks e-mail, password length, name and phone. kInvalidArgument names the field.
Status ValidateRegistration(Registration& registration);
// Inserts a validated registration with its password hash; kEmailTaken when the e-mail is in use.
Result<Account> CreateAccount(AccountStore& store, const Registration& registration,
                              const std::string& password_hash, int64_t now_ms);

// The outcome of checking a password at login.
struct PasswordCheck {
  bool ok = false;       // the account exists and the password matches its hash
  std::string new_hash;  // when ok and the stored hash has other parameters: its replacement
};
// Verifies `password` against the account's hash, or against a dummy hash when there is no
// account (so that the time taken does not tell who is registered). Slow: two hashes when the
// stored one is to be replaced. Call it outside any transaction.
PasswordCheck CheckPassword(const std::optional<Account>& account, std::string_view password);
// Inserts a session of `ttl_ms` for a login that passed CheckPassword, and replaces the account's
// password hash with `check.new_hash` when there is one (unless the hash changed meanwhile).
Session StartSession(AccountStore& store, const Account& account, const PasswordCheck& check,
                     const std::string& token_hash, int64_t now_ms, int64_t ttl_ms);

// A live session and its account.
struct Authenticated {
  Account account;
  Session session;
};
// The account a live (not revoked, not expired) session token belongs to, with the session.
std::optional<Authenticated> Authenticate(AccountStore& store, const std::string& token,
                                          int64_t now_ms);
// Whether a live session is to be renewed: when less than half of `ttl_ms` is left.
bool SessionDueForRenewal(const Session& session, int64_t now_ms, int64_t ttl_ms);
// Moves a live session's expiry to now + ttl; false when it was revoked or expired meanwhile.
bool RenewSession(AccountStore& store, const std::string& token_hash, int64_t now_ms,
                  int64_t ttl_ms);

}  // namespace tandem::customers
