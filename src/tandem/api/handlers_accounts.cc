#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"

namespace tandem::api {
namespace {

using customers::Account;

Response Register(ApiContext& ctx, Request& req) {
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  customers::Registration r;
  r.email = f.Str("email", kTextShortBytesMax);
  r.password = f.Str("password", kPasswordBytesMax);
  r.name = f.Str("name", kTextShortBytesMax);
  r.phone = f.OptStr("phone", 40).value_or("");
  r.newsletter_opt_in = f.Bool("newsletter_opt_in", false);
  if (!f.ok()) return Problem(f.status());
  Status valid = customers::ValidateRegistration(r);
  if (!valid.ok()) return Problem(valid);
  // Hashing is slow on purpose: do it before, not inside, the write transaction.
  std::string hash = HashPassword(r.password);
  if (hash.empty()) return Problem(Status(Code::kUnavailable, "out of memory hashing"));
  return WriteJson(ctx, req, "register", 201, [&](storage::Tx& tx) -> Result<Json> {
    Result<Account> account = customers::CreateAccount(tx.accounts(), r, hash, ctx.clock.NowMs());
    if (!account.ok()) return account.status();
    return AccountJson(*account);
  });
}

Response Login(ApiContext& ctx, Request& req) {
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string email = customers::NormalizeEmail(f.Str("email", kTextShortBytesMax));
  std::string password = f.Str("password", kPasswordBytesMax);
  if (!f.ok()) return Problem(f.status());
  std::optional<Account> account;
  Status s = ctx.db.Read([&](storage::Tx& tx) {
    account = tx.accounts().FindAccountByEmail(email);
    return Status::Ok();
  });
  if (!s.ok()) return Problem(s);
  // Verify against a dummy hash when there is no account, so timing does not tell who is registered.
  static const std::string kDummyHash = HashPassword("not-a-real-password");
  bool verified = VerifyPassword(password, account ? account->password_hash : kDummyHash);
  if (!account || !verified) {
    return Problem(Status(Code::kUnauthorized, "wrong e-mail or password"));
  }
  std::string token = RandomToken(32);
  int64_t now = ctx.clock.NowMs();
  customers::Session session{HashToken(token), account->id, now, now + ctx.options.session_ttl_ms,
                             false};
  s = ctx.db.Write([&](storage::Tx& tx) {
    tx.accounts().InsertSession(session);
    return Status::Ok();
  });
  if (!s.ok()) return Problem(s);
  Response r = JsonResponse(200, Json{{"token", token},
                                      {"role", customers::RoleName(account->role)},
                                      {"account", AccountJson(*account)},
                                      {"expires_at", FormatTimestamp(session.expires_ms)}});
  std::string cookie = "tandem_session=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(ctx.options.session_ttl_ms / 1000);
  if (ctx.options.secure_cookies) cookie += "; Secure";
  r.headers.emplace_back("Set-Cookie", cookie);
  return r;
}

Response Logout(ApiContext& ctx, Request& req) {
  std::string token = SessionToken(req);
  if (token.empty()) return Problem(Status(Code::kUnauthorized, "not logged in"));
  Status s = ctx.db.Write([&](storage::Tx& tx) {
    tx.accounts().RevokeSession(HashToken(token));
    return Status::Ok();
  });
  if (!s.ok()) return Problem(s);
  Response r;
  r.status = 204;
  r.headers.emplace_back("Set-Cookie", "tandem_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
  return r;
}

Response Me(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Status allowed = RequireAccount(*who);
  if (!allowed.ok()) return Problem(allowed);
  return JsonResponse(200, AccountJson(*who->account));
}

Response MyOrders(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Status allowed = RequireAccount(*who);
  if (!allowed.ok()) return Problem(allowed);
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    orders::OrderFilter filter;
    filter.customer_id = who->account->id;
    filter.before_id = page->before_id;
    filter.limit = page->limit;
    return PageJson(tx.orders().ListOrders(filter), page->limit,
                    [](const orders::Order& o) { return OrderJson(o, false); });
  });
}

}  // namespace

void AddAccountRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/v1/customers", [&ctx](Request& r) { return Register(ctx, r); });
  router.Add("POST", "/api/v1/auth/login", [&ctx](Request& r) { return Login(ctx, r); });
  router.Add("POST", "/api/v1/auth/logout", [&ctx](Request& r) { return Logout(ctx, r); });
  router.Add("GET", "/api/v1/me", [&ctx](Request& r) { return Me(ctx, r); });
  router.Add("GET", "/api/v1/me/orders", [&ctx](Request& r) { return MyOrders(ctx, r); });
}

}  // namespace tandem::api
