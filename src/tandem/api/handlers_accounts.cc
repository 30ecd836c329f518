#include <functional>
#include <memory>
#include <string>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/check.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"

namespace tandem::api {
namespace {

using customers::Account;

// Runs `work` on the password-hashing lane, which answers through `respond`; when the lane's
// queue is full, answers 503 with Retry-After at once instead. What `work` throws before it
// hands `respond` on becomes a 500.
void OnHashingLane(ApiContext& ctx, Respond respond, std::function<void(Respond)> work) {
  auto answer = std::make_shared<Respond>(std::move(respond));
  std::function<void()> task = [answer, work = std::move(work)] {
    try {
      work(*answer);
    } catch (const std::exception& e) {
      TANDEM_UNEXPECTED((std::string("on the hashing lane: ") + e.what()).c_str());
      (*answer)(Problem(Status(Code::kInternal, e.what())));
    }
  };
  if (!ctx.hashing.TrySubmit(task)) {
    (*answer)(
        Problem(Status(Code::kUnavailable, "too many logins and sign-ups at once; retry shortly")));
  }
}

// Sign-up: the body is checked on the I/O thread, the password hashed on the hashing lane, and
// the account written without waiting there.
void Register(ApiContext& ctx, Request& req, Respond respond) {
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.status()));
  Fields f(*body);
  customers::Registration r;
  r.email = f.Str("email", kTextShortBytesMax);
  r.password = f.Str("password", kPasswordBytesMax);
  r.name = f.Str("name", kTextShortBytesMax);
  r.phone = f.OptStr("phone", 40).value_or("");
  r.newsletter_opt_in = f.Bool("newsletter_opt_in", false);
  if (!f.ok()) return respond(Problem(f.status()));
  Status valid = customers::ValidateRegistration(r);
  if (!valid.ok()) return respond(Problem(valid));
  OnHashingLane(ctx, std::move(respond), [&ctx, &req, r = std::move(r)](Respond respond) {
    std::string hash = HashPassword(r.password);
    if (hash.empty()) return respond(Problem(Status(Code::kUnavailable, "out of memory hashing")));
    WriteJsonAsync(
        ctx, req, "register", 201,
        [&ctx, r, hash = std::move(hash)](storage::Tx& tx) -> Result<Render> {
          Result<Account> account =
              customers::CreateAccount(tx.accounts(), r, hash, ctx.clock.NowMs());
          if (!account.ok()) return account.status();
          return Render([json = AccountJson(*account)] { return DumpJson(json); });
        },
        std::move(respond));
  });
}

// Login: the body is checked on the I/O thread; on the hashing lane the account is read and the
// password verified (and its hash replaced when it has old parameters); the session is written
// without waiting there.
void Login(ApiContext& ctx, Request& req, Respond respond) {
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.status()));
  Fields f(*body);
  std::string email = customers::NormalizeEmail(f.Str("email", kTextShortBytesMax));
  std::string password = f.Str("password", kPasswordBytesMax);
  if (!f.ok()) return respond(Problem(f.status()));
  OnHashingLane(
      ctx, std::move(respond),
      [&ctx, &req, email = std::move(email), password = std::move(password)](Respond respond) {
        std::optional<Account> account;
        Status s = ctx.db.Read([&](storage::Tx& tx) {
          account = tx.accounts().FindAccountByEmail(email);
          return Status::Ok();
        });
        if (!s.ok()) return respond(Problem(s));
        customers::PasswordCheck check = customers::CheckPassword(account, password);
        if (!check.ok)
          return respond(Problem(Status(Code::kUnauthorized, "wrong e-mail or password")));
        std::string token = RandomToken(32);
        const int64_t ttl = ctx.options.session_ttl_ms;
        std::string cookie = SessionCookie(ctx.options, token, ttl / 1000);
        WriteJsonAsync(
            ctx, req, "", 200,
            [&ctx, account = std::move(*account), check = std::move(check), token,
             ttl](storage::Tx& tx) -> Result<Render> {
              customers::Session session = customers::StartSession(
                  tx.accounts(), account, check, HashToken(token), ctx.clock.NowMs(), ttl);
              Json json{{"token", token},
                        {"role", customers::RoleName(account.role)},
                        {"account", AccountJson(account)},
                        {"expires_at", FormatTimestamp(session.expires_ms)}};
              return Render([json = std::move(json)] { return DumpJson(json); });
            },
            [respond = std::move(respond), cookie = std::move(cookie)](Response r) {
              if (r.status == 200) r.headers.emplace_back("Set-Cookie", cookie);
              respond(std::move(r));
            });
      });
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
  r.headers.emplace_back("Set-Cookie", SessionCookie(ctx.options, "", 0));
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
  // Sign-up and login hash a password: they run on the hashing lane, not on a worker.
  router.AddAsync("POST", "/api/v1/customers",
                  [&ctx](Request& r, Respond respond) { Register(ctx, r, std::move(respond)); });
  router.AddAsync("POST", "/api/v1/auth/login",
                  [&ctx](Request& r, Respond respond) { Login(ctx, r, std::move(respond)); });
  router.Add("POST", "/api/v1/auth/logout", [&ctx](Request& r) { return Logout(ctx, r); });
  router.Add("GET", "/api/v1/me", [&ctx](Request& r) { return Me(ctx, r); });
  router.Add("GET", "/api/v1/me/orders", [&ctx](Request& r) { return MyOrders(ctx, r); });
}

}  // namespace tandem::api
