#include "tandem/customers/accounts.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "tandem/base/check.h"
#include "tandem/base/crypto.h"
#include "tandem/base/enum_names.h"
#include "tandem/base/limits.h"

namespace tandem::customers {
namespace {
constexpr std::array<std::pair<Role, std::string_view>, 5> kRoleNames{{
    {Role::kCustomer, "customer"},
    {Role::kAdmin, "admin"},
    {Role::kMerchant, "merchant"},
    {Role::kOps, "ops"},
    {Role::kClerk, "clerk"},
}};
}  // namespace

std::string_view RoleName(Role role) { return NameOf(kRoleNames, role); }
std::optional<Role> ParseRole(std::string_view name) { return ParseName(kRoleNames, name); }

std::string NormalizeEmail(std::string_view email) {
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.front()))) {
    email.remove_prefix(1);
  }
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.back()))) {
    email.remove_suffix(1);
  }
  if (email.empty() || email.size() > kTextShortBytesMax) return {};
  size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at != email.rfind('@')) return {};
  std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.') return {};
  std::string out;
  for (char c : email) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isspace(u) || std::iscntrl(u)) return {};
    out += static_cast<char>(std::tolower(u));
  }
  return out;
}

Status ValidateRegistration(Registration& r) {
  r.email = NormalizeEmail(r.email);
  if (r.email.empty()) return Status(Code::kInvalidArgument, "email is not a valid address");
  if (r.password.size() < kPasswordBytesMin || r.password.size() > kPasswordBytesMax) {
    return Status(Code::kInvalidArgument, "password must be 8-200 bytes");
  }
  if (r.name.empty() || r.name.size() > kTextShortBytesMax) {
    return Status(Code::kInvalidArgument, "name must be 1-200 bytes");
  }
  if (r.phone.size() > 40) return Status(Code::kInvalidArgument, "phone is longer than 40 bytes");
  return Status::Ok();
}

Result<Account> CreateAccount(AccountStore& store, const Registration& r,
                              const std::string& password_hash, int64_t now_ms) {
  if (store.FindAccountByEmail(r.email)) {
    return Status(Code::kEmailTaken, "an account with this e-mail exists already");
  }
  Account a;
  a.email = r.email;
  a.name = r.name;
  a.phone = r.phone;
  a.role = r.role;
  a.password_hash = password_hash;
  a.newsletter_opt_in = r.newsletter_opt_in;
  if (r.newsletter_opt_in) {
    a.consent_at_ms = now_ms;
    a.consent_source = "registration";
  }
  a.created_ms = now_ms;
  a.location_id = r.location_id;
  a.id = store.InsertAccount(a);
  return a;
}

PasswordCheck CheckPassword(const std::optional<Account>& account, std::string_view password) {
  static const std::string kDummyHash = HashPassword("not-a-real-password");
  PasswordCheck check;
  check.ok = VerifyPassword(password, account ? account->password_hash : kDummyHash) &&
             account.has_value();
  if (check.ok && PasswordNeedsRehash(account->password_hash)) {
    check.new_hash = HashPassword(password);  // empty on out-of-memory: replaced next time
  }
  return check;
}

Session StartSession(AccountStore& store, const Account& account, const PasswordCheck& check,
                     const std::string& token_hash, int64_t now_ms, int64_t ttl_ms) {
  TANDEM_CHECK(check.ok);
  Session session{token_hash, account.id, now_ms, now_ms + ttl_ms, false};
  store.InsertSession(session);
  if (!check.new_hash.empty()) {
    // False when the password changed since it was read: the newer hash stays.
    (void)store.ReplacePasswordHash(account.id, account.password_hash, check.new_hash);
  }
  return session;
}

std::optional<Authenticated> Authenticate(AccountStore& store, const std::string& token,
                                          int64_t now_ms) {
  if (token.empty() || token.size() > 200) return std::nullopt;
  std::optional<Session> s = store.FindSession(HashToken(token));
  if (!s || s->revoked || s->expires_ms <= now_ms) return std::nullopt;
  std::optional<Account> account = store.FindAccount(s->account_id);
  if (!account) return std::nullopt;
  return Authenticated{std::move(*account), std::move(*s)};
}

bool SessionDueForRenewal(const Session& session, int64_t now_ms, int64_t ttl_ms) {
  return !session.revoked && session.expires_ms > now_ms &&
         session.expires_ms - now_ms < ttl_ms / 2;
}

bool RenewSession(AccountStore& store, const std::string& token_hash, int64_t now_ms,
                  int64_t ttl_ms) {
  return store.ExtendSession(token_hash, now_ms + ttl_ms, now_ms);
}

}  // namespace tandem::customers
