#include "tandem/api/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"

namespace tandem::api {
namespace {

// One password-hashing thread per core unless told otherwise.
int HashThreads(const ApiOptions& options) {
  if (options.hash_threads > 0) return options.hash_threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

Api::Api(storage::Database& db, const Clock& clock, ApiOptions options)
    : ctx_{db, clock, options, metrics_, hashing_},
      workers_(options.worker_threads, options.queued_requests_max),
      hashing_(HashThreads(options), options.queued_hashes_max, "tandem-hash", kHashThreadsNice) {
  AddAccountRoutes(router_, ctx_);
  AddCatalogRoutes(router_, ctx_);
  AddInventoryRoutes(router_, ctx_);
  AddCartRoutes(router_, ctx_);
  AddOrderRoutes(router_, ctx_);
  AddSyncRoutes(router_, ctx_);
  AddEventRoutes(router_, ctx_);
  AddFulfillmentRoutes(router_, ctx_);
  router_.AddAsync("GET", "/healthz", [](Request&, Respond respond) {
    respond(JsonResponse(200, Json{{"status", "ok"}}));
  });
  router_.Add("GET", "/readyz", [this](Request&) {
    if (!ready_.load()) return Problem(Status(Code::kUnavailable, "not ready"));
    if (Status health = ctx_.db.Health(); !health.ok()) return Problem(health);
    Status db = ctx_.db.Read([](storage::Tx& tx) {
      (void)tx.GetSetting("schema");
      return Status::Ok();
    });
    if (!db.ok()) return Problem(db);
    return JsonResponse(200, Json{{"status", "ready"}});
  });
  router_.Add("GET", "/metrics", [this](Request&) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.Render(
        "# TYPE tandem_unexpected_total counter\ntandem_unexpected_total " +
        std::to_string(UnexpectedCount() + unexpected_errors_.load()) +
        "\n# TYPE tandem_check_failures_total counter\ntandem_check_failures_total " +
        std::to_string(CheckFailureCount()) + "\n");
    return r;
  });
  router_.Add("GET", "/api/v1/openapi.json", [](Request&) {
    Response r;
    r.body = OpenApiDocument();
    return r;
  });
}

std::optional<Response> Api::Unexpected(Request& request, const std::function<void()>& run) {
  try {
    run();
    return std::nullopt;
  } catch (const std::exception& e) {
    unexpected_errors_.fetch_add(1);
    spdlog::error("request_id={} {} {}: unexpected: {}", request.request_id, request.method,
                  request.path, e.what());
    return Problem(Status(Code::kInternal, e.what()));
  } catch (...) {
    unexpected_errors_.fetch_add(1);
    spdlog::error("request_id={} {} {}: unexpected non-standard exception", request.request_id,
                  request.method, request.path);
    return Problem(Status(Code::kInternal, "unexpected"));
  }
}

bool Api::UnavailableLogDue() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t last = last_unavailable_log_ms_.load();
  return now_ms - last >= 1000 && last_unavailable_log_ms_.compare_exchange_strong(last, now_ms);
}

void Api::Handle(Request& request, Respond respond) {
  auto start = std::chrono::steady_clock::now();
  Router::Match match = router_.Find(request);
  static const std::string kUnmatched = "unmatched";
  // Route names live as long as the router: the answer may come after this returns.
  const std::string* route_name =
      match.kind == Router::MatchKind::kFound ? &match.route->name : &kUnmatched;
  // Every answer leaves through here: metrics, the log line, the request id.
  Respond finish = [this, &request, start, route_name, respond = std::move(respond)](Response r) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.Record(*route_name, r.status, seconds);
    // 503s (overload, mostly) are logged at most one a second: a line per refusal would cost the
    // most exactly when the server is busiest. The metrics count them all.
    if (r.status >= 500 && (r.status != 503 || UnavailableLogDue())) {
      spdlog::warn("request_id={} {} {} -> {} ({:.1f} ms): {}", request.request_id,
                   request.method, request.path, r.status, seconds * 1000,
                   r.log_detail.empty() ? r.body : r.log_detail);
    } else {
      spdlog::debug("request_id={} {} {} -> {} ({:.1f} ms)", request.request_id, request.method,
                    request.path, r.status, seconds * 1000);
    }
    for (auto& header : request.answer_headers) r.headers.push_back(std::move(header));
    r.headers.emplace_back("X-Request-Id", request.request_id);
    respond(std::move(r));
  };
  switch (match.kind) {
    case Router::MatchKind::kNoPath:
      return finish(
          Problem(Status(Code::kNotFound, "no route for " + request.path.substr(0, 200))));
    case Router::MatchKind::kWrongMethod: {
      Response r = Problem(Status(Code::kMethodNotAllowed, request.method + " is not allowed here"));
      r.headers.emplace_back("Allow", match.allowed);
      return finish(std::move(r));
    }
    case Router::MatchKind::kFound:
      break;
  }
  const Route* route = match.route;
  if (route->async_handler) {
    // An async handler answers through `finish` exactly once, unless it throws before.
    if (auto failed = Unexpected(request, [&] { route->async_handler(request, finish); })) {
      finish(std::move(*failed));
    }
    return;
  }
  // `finish` is shared with the task: when the workers' queue is full, the task is refused
  // and the request is answered here.
  auto answer = std::make_shared<Respond>(std::move(finish));
  std::function<void()> task = [this, &request, route, answer] {
    Response r;
    std::optional<Response> failed = Unexpected(request, [&] { r = route->handler(request); });
    (*answer)(failed ? std::move(*failed) : std::move(r));
  };
  if (!workers_.TrySubmit(task)) {
    (*answer)(Problem(Status(Code::kUnavailable, "too many requests waiting; retry shortly")));
  }
}

}  // namespace tandem::api
