// What every handler shares: the database, the clock, options, metrics; who is calling; and the
// helpers that run a write (with Idempotency-Key) and turn outcomes into responses.
// ApiContext is built once and read by many threads; the helpers are thread-safe.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include "tandem/api/http.h"
#include "tandem/api/json_io.h"
#include "tandem/api/metrics.h"
#include "tandem/api/worker_pool.h"
#include "tandem/base/clock.h"
#include "tandem/base/limits.h"
#include "tandem/customers/accounts.h"
#include "tandem/orders/service.h"
#include "tandem/payments/payments.h"
#include "tandem/payments/provider.h"
#include "tandem/storage/database.h"

namespace tandem::api {

struct ApiOptions {
  int64_t hold_ttl_ms = 15 * 60 * 1000;
  int64_t session_ttl_ms = kSessionTtlSecondsDefault * 1000;  // renewed when half is left
  bool secure_cookies = false;                 // add Secure to the session cookie (behind TLS)
  int64_t stale_after_ms = 15 * 60 * 1000;     // a store with a till is stale past this silence
  int worker_threads = kWorkerThreadsDefault;  // run the handlers that block (see WorkerPool)
  size_t queued_requests_max = kQueuedRequestsMax;  // waiting for a worker; past it: 503
  std::string data_dir = "./data";  // payment proofs are kept in <data_dir>/proofs
  std::string public_url = "http://127.0.0.1:8080";  // the shop's address, for links
  payments::SellerSettings seller;
  int utc_offset_minutes = 8 * 60;  // the shop's time zone for printed dates (Malaysia)
  payments::CardProvider* card = nullptr;  // card payments; none: refused with 503
  std::string payment_webhook_secret;      // signs the card provider's webhooks
  std::string carrier_webhook_secret;      // signs the carriers' tracking updates
  int hash_threads = 0;  // the password-hashing lane's threads; 0: one per core
  size_t queued_hashes_max = kQueuedHashesMax;  // waiting for a hashing thread; past it: 503
};

struct ApiContext {
  storage::Database& db;
  const Clock& clock;
  ApiOptions options;
  Metrics& metrics;
  // The password-hashing lane: logins and sign-ups hash there, nothing else does, so that other
  // requests never wait behind a hash (handlers_accounts.cc).
  WorkerPool& hashing;
};

// Who is calling: nobody, a customer or a member of staff.
struct Principal {
  std::optional<customers::Account> account;
  bool anonymous() const { return !account.has_value(); }
  bool staff() const { return account && customers::IsStaff(account->role); }
  bool customer() const { return account && account->role == customers::Role::kCustomer; }
  // For timelines: "guest", "customer:<id>", "staff:<email>".
  std::string actor() const;
};

// The session token from `Authorization: Bearer …` or the tandem_session cookie.
std::string SessionToken(const Request& request);
// Resolves the caller; anonymous when the token is missing, unknown, revoked or expired. A session
// with less than half its lifetime left is renewed, without waiting for that write (and a cookie
// with the new lifetime is added to request.answer_headers when the token came in a cookie).
Result<Principal> Identify(ApiContext& ctx, Request& request);
// The Set-Cookie value that carries a session token for `max_age_seconds`.
std::string SessionCookie(const ApiOptions& options, const std::string& token,
                          int64_t max_age_seconds);
// kUnauthorized when anonymous, kForbidden when not one of `roles`.
Status RequireRole(const Principal& who, std::initializer_list<customers::Role> roles);
// kUnauthorized when anonymous.
Status RequireAccount(const Principal& who);
// Every staff role, for routes any member of staff may use.
inline constexpr std::initializer_list<customers::Role> kAllStaff{
    customers::Role::kAdmin, customers::Role::kMerchant, customers::Role::kOps,
    customers::Role::kClerk};
// Identify, then RequireRole: the caller when they hold one of `roles`.
Result<Principal> IdentifyWithRole(ApiContext& ctx, Request& request,
                                   std::initializer_list<customers::Role> roles);

// A positive integer id from a path or query parameter; kNotFound for anything else.
Result<int64_t> ParseId(const std::string& text);
// `limit` from the query: kPageLimitDefault when absent, kInvalidArgument outside 1..kPageLimitMax.
Result<int> ParseLimit(const Request& request);

using WriteFn = std::function<Result<Json>(storage::Tx&)>;
// Runs `fn` in one write transaction and answers `status` with its JSON. With an Idempotency-Key
// header the answer is stored in the same transaction under (scope, key): a repeat with the same
// body replays it, a repeat with another body is kIdempotencyKeyReused. The scope must carry the
// caller's credentials (account, cart token …), so that a replay never answers someone else; an
// empty scope means the operation takes no Idempotency-Key.
Response WriteJson(ApiContext& ctx, const Request& request, const std::string& scope, int status,
                   const WriteFn& fn);
// Writes an answer's JSON text from what a write function kept (owned by the closure); called
// once.
using Render = std::function<std::string()>;
using RenderFn = std::function<Result<Render>(storage::Tx&)>;
// WriteJson without waiting, for async handlers: `respond` gets the answer once the
// write is durable (or refused), on a storage thread. `fn` runs on the writer thread after this
// returns, so it must own what it uses (capture by value), the request and `ctx` excepted; its
// Render runs after the commit, where `respond` does: on the sync thread when the database is
// durable, so not on the writer (inside the transaction only when an Idempotency-Key stores the
// answer).
void WriteJsonAsync(ApiContext& ctx, const Request& request, const std::string& scope, int status,
                    RenderFn fn, Respond respond);
// WriteJsonAsync, waiting for the answer: for handlers on the worker pool whose answer is already
// text (carts, orders), so that it is written after the commit, not on the writer thread.
Response WriteRendered(ApiContext& ctx, const Request& request, const std::string& scope,
                       int status, const RenderFn& fn);
// Runs `fn` on a read snapshot and answers 200 with its JSON.
Response ReadJson(ApiContext& ctx, const WriteFn& fn);
// ReadJson for a function that writes the JSON text itself.
using TextFn = std::function<Result<std::string>(storage::Tx&)>;
Response ReadText(ApiContext& ctx, const TextFn& fn);

// `limit` and `cursor` of a list paged by descending id (cursor absent: from the newest).
struct Page {
  int limit = 0;
  int64_t before_id = 0;
};
Result<Page> ParsePage(const Request& request);
// One page of a list paged by descending id: {"items": [to_json(item)…], "next_cursor": the last
// id when the page is full, else null}.
template <typename Item, typename ToJson>
Json PageJson(const std::vector<Item>& page, int limit, ToJson to_json) {
  Json items = Json::array();
  for (const Item& item : page) items.push_back(to_json(item));
  bool full = !page.empty() && page.size() >= static_cast<size_t>(limit);
  return Json{{"items", std::move(items)},
              {"next_cursor", full ? Json(std::to_string(page.back().id)) : Json(nullptr)}};
}

// An OrderContext over a transaction's stores.
orders::OrderContext MakeOrderContext(ApiContext& ctx, storage::Tx& tx, const std::string& actor);

}  // namespace tandem::api
