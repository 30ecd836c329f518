// Accounts of customers and staff, their sessions, and the AccountStore seam.
//
// Password hashing (argon2id) is slow on purpose, so callers hash *outside* a transaction:
// ValidateRegistration → HashPassword → inside the transaction InsertAccount. Types are values;
// AccountStore is used inside one transaction by one thread.
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
  virtual void SetPassword(int64_t account_id, const std::string& password_hash) = 0;
  virtual void InsertSession(const Session& session) = 0;
  virtual std::optional<Session> FindSession(const std::string& token_hash) = 0;
  virtual void RevokeSession(const std::string& token_hash) = 0;
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
// The account a live (not revoked, not expired) session token belongs to.
std::optional<Account> Authenticate(AccountStore& store, const std::string& token, int64_t now_ms);

}  // namespace tandem::customers
