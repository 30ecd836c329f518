#include "tandem/api/context.h"

#include <charconv>
#include <future>
#include <memory>

#include "tandem/api/errors.h"
#include "tandem/base/check.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"

namespace tandem::api {

std::string Principal::actor() const {
  if (!account) return "guest";
  if (customers::IsStaff(account->role)) return "staff:" + account->email;
  return "customer:" + std::to_string(account->id);
}

std::string SessionToken(const Request& request) {
  const std::string& auth = request.Header("authorization");
  static constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0) {
    return auth.substr(kBearer.size());
  }
  const std::string& cookie = request.Header("cookie");
  static constexpr std::string_view kName = "tandem_session=";
  size_t pos = 0;
  while ((pos = cookie.find(kName, pos)) != std::string::npos) {
    if (pos == 0 || cookie[pos - 1] == ' ' || cookie[pos - 1] == ';') {
      size_t start = pos + kName.size();
      size_t end = cookie.find(';', start);
      return cookie.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    pos += kName.size();
  }
  return {};
}

std::string SessionCookie(const ApiOptions& options, const std::string& token,
                          int64_t max_age_seconds) {
  std::string cookie = "tandem_session=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(max_age_seconds);
  if (options.secure_cookies) cookie += "; Secure";
  return cookie;
}

Result<Principal> Identify(ApiContext& ctx, Request& request) {
  Principal who;
  std::string token = SessionToken(request);
  if (token.empty()) return who;
  const int64_t now = ctx.clock.NowMs();
  std::optional<customers::Authenticated> found;
  Status s = ctx.db.Read([&](storage::Tx& tx) {
    found = customers::Authenticate(tx.accounts(), token, now);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!found) return who;
  const int64_t ttl = ctx.options.session_ttl_ms;
  if (customers::SessionDueForRenewal(found->session, now, ttl)) {
    // Not waited for: the caller is known already, and a renewal that is refused (a full write
    // queue) is tried again at the next request.
    ctx.db.WriteAsync(
        [token_hash = found->session.token_hash, now, ttl](storage::Tx& tx) {
          (void)customers::RenewSession(tx.accounts(), token_hash, now, ttl);
          return Status::Ok();
        },
        [](Status) {});
    if (request.Header("authorization").rfind("Bearer ", 0) != 0) {
      request.answer_headers.emplace_back("Set-Cookie",
                                          SessionCookie(ctx.options, token, ttl / 1000));
    }
  }
  who.account = std::move(found->account);
  return who;
}

Status RequireAccount(const Principal& who) {
  if (who.anonymous()) return Status(Code::kUnauthorized, "log in first");
  return Status::Ok();
}

Status RequireRole(const Principal& who, std::initializer_list<customers::Role> roles) {
  TANDEM_RETURN_IF_ERROR(RequireAccount(who));
  for (customers::Role r : roles) {
    if (who.account->role == r) return Status::Ok();
  }
  return Status(Code::kForbidden, "your role may not do this");
}

Result<Principal> IdentifyWithRole(ApiContext& ctx, Request& request,
                                   std::initializer_list<customers::Role> roles) {
  Result<Principal> who = Identify(ctx, request);
  if (!who.ok()) return who.status();
  TANDEM_RETURN_IF_ERROR(RequireRole(*who, roles));
  return who;
}

Result<int64_t> ParseId(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Status(Code::kNotFound, "no such id: " + text.substr(0, 40));
  }
  return id;
}

Result<int> ParseLimit(const Request& request) {
  const std::string& text = request.Query("limit");
  if (text.empty()) return kPageLimitDefault;
  int limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size() || limit < 1 ||
      limit > kPageLimitMax) {
    return Status(Code::kInvalidArgument,
                  "limit must be between 1 and " + std::to_string(kPageLimitMax));
  }
  return limit;
}

Result<Page> ParsePage(const Request& request) {
  Result<int> limit = ParseLimit(request);
  if (!limit.ok()) return limit.status();
  Page page{*limit, 0};
  if (!request.Query("cursor").empty()) {
    Result<int64_t> c = ParseId(request.Query("cursor"));
    if (!c.ok()) return Status(Code::kInvalidArgument, "cursor is not valid");
    page.before_id = *c;
  }
  return page;
}

void WriteJsonAsync(ApiContext& ctx, const Request& request, const std::string& scope, int status,
                    RenderFn fn, Respond respond) {
  const std::string& key = request.Header("idempotency-key");
  if (key.size() > kIdempotencyKeyBytesMax) {
    return respond(
        Problem(Status(Code::kInvalidArgument, "Idempotency-Key is longer than 200 bytes")));
  }
  // What the transaction and the answer share; the transaction runs on the writer thread.
  struct Call {
    RenderFn fn;
    Respond respond;
    std::string stored_key;
    std::string request_hash;
    std::optional<Response> stored;  // the answer, when it had to be rendered in the transaction
    Render render;                   // otherwise: renders it after the commit
  };
  auto call = std::make_shared<Call>();
  call->fn = std::move(fn);
  call->respond = std::move(respond);
  if (!key.empty() && !scope.empty()) {
    call->stored_key = scope + "|" + request.path + "|" + key;
    call->request_hash = HashToken(request.method + "\n" + request.body);
  }
  auto run = [call, status, &clock = ctx.clock](storage::Tx& tx) -> Status {
    if (!call->stored_key.empty()) {
      if (auto previous = tx.FindIdempotency(call->stored_key)) {
        if (previous->request_hash != call->request_hash) {
          return Status(Code::kIdempotencyKeyReused,
                        "this Idempotency-Key was used with a different request");
        }
        Response replay;
        replay.status = previous->status;
        replay.body = std::move(previous->body);
        replay.headers.emplace_back("Idempotent-Replayed", "true");
        call->stored = std::move(replay);
        return Status::Ok();
      }
    }
    Result<Render> result = call->fn(tx);
    if (!result.ok()) return result.status();
    if (call->stored_key.empty()) {
      call->render = std::move(result.value());  // after the commit, with the answer
      return Status::Ok();
    }
    call->stored = JsonTextResponse(status, (*result)());
    if (!tx.TrySaveIdempotency(call->stored_key,
                               {call->request_hash, call->stored->status, call->stored->body},
                               clock.NowMs())) {
      // Another request with this key was kept after this one read (only on an engine that runs
      // writes side by side): this one is undone, and its retry gets the stored answer.
      return Status(Code::kConflict,
                    "a request with this Idempotency-Key was being processed; retry it");
    }
    return Status::Ok();
  };
  ctx.db.WriteAsync(std::move(run), [call, status](Status s) {
    if (!s.ok()) return call->respond(Problem(s));
    if (call->stored) return call->respond(std::move(*call->stored));
    // This runs on a storage thread, which must not be ended by a throw.
    std::string body;
    try {
      body = call->render();
    } catch (const std::exception& e) {
      TANDEM_UNEXPECTED((std::string("rendering an answer: ") + e.what()).c_str());
      return call->respond(Problem(Status(Code::kInternal, "the answer could not be written")));
    }
    call->respond(JsonTextResponse(status, std::move(body)));
  });
}

Response WriteRendered(ApiContext& ctx, const Request& request, const std::string& scope,
                       int status, const RenderFn& fn) {
  std::promise<Response> answer;
  std::future<Response> done = answer.get_future();
  WriteJsonAsync(
      ctx, request, scope, status, [&fn](storage::Tx& tx) { return fn(tx); },
      [&answer](Response r) { answer.set_value(std::move(r)); });
  return done.get();
}

Response WriteJson(ApiContext& ctx, const Request& request, const std::string& scope, int status,
                   const WriteFn& fn) {
  return WriteRendered(ctx, request, scope, status, [&fn](storage::Tx& tx) -> Result<Render> {
    Result<Json> body = fn(tx);
    if (!body.ok()) return body.status();
    return Render([body = std::make_shared<Json>(std::move(body.value()))] {
      return DumpJson(*body);
    });
  });
}

Response ReadText(ApiContext& ctx, const TextFn& fn) {
  std::string body;
  Status s = ctx.db.Read([&](storage::Tx& tx) -> Status {
    Result<std::string> result = fn(tx);
    if (!result.ok()) return result.status();
    body = std::move(result.value());
    return Status::Ok();
  });
  if (!s.ok()) return Problem(s);
  return JsonTextResponse(200, std::move(body));
}

Response ReadJson(ApiContext& ctx, const WriteFn& fn) {
  return ReadText(ctx, [&fn](storage::Tx& tx) -> Result<std::string> {
    Result<Json> body = fn(tx);
    if (!body.ok()) return body.status();
    return DumpJson(*body);
  });
}

orders::OrderContext MakeOrderContext(ApiContext& ctx, storage::Tx& tx, const std::string& actor) {
  return orders::OrderContext{tx.catalog(),    tx.inventory(),          tx.orders(),
                              ctx.clock.NowMs(), ctx.options.hold_ttl_ms, actor};
}

}  // namespace tandem::api
