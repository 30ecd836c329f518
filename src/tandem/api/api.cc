#include "tandem/api/api.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"

namespace tandem::api {

Api::Api(storage::Database& db, const Clock& clock, ApiOptions options)
    : ctx_{db, clock, options, metrics_} {
  AddAccountRoutes(router_, ctx_);
  AddCatalogRoutes(router_, ctx_);
  AddInventoryRoutes(router_, ctx_);
  AddCartRoutes(router_, ctx_);
  AddOrderRoutes(router_, ctx_);
  AddSyncRoutes(router_, ctx_);
  AddEventRoutes(router_, ctx_);
  router_.Add("GET", "/healthz", [](Request&) {
    return JsonResponse(200, Json{{"status", "ok"}});
  });
  router_.Add("GET", "/readyz", [this](Request&) {
    if (!ready_.load()) return Problem(Status(Code::kUnavailable, "not ready"));
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

Response Api::Dispatch(Request& request, std::string& route_name) {
  Router::Match match = router_.Find(request);
  switch (match.kind) {
    case Router::MatchKind::kNoPath:
      route_name = "unmatched";
      return Problem(Status(Code::kNotFound, "no route for " + request.path.substr(0, 200)));
    case Router::MatchKind::kWrongMethod: {
      route_name = "unmatched";
      Response r = Problem(Status(Code::kMethodNotAllowed, request.method + " is not allowed here"));
      r.headers.emplace_back("Allow", match.allowed);
      return r;
    }
    case Router::MatchKind::kFound:
      break;
  }
  route_name = match.route->method + " " + match.route->pattern;
  return match.route->handler(request);
}

Response Api::Handle(Request& request) {
  auto start = std::chrono::steady_clock::now();
  std::string route_name = "unmatched";
  Response response;
  try {
    response = Dispatch(request, route_name);
  } catch (const std::exception& e) {
    unexpected_errors_.fetch_add(1);
    spdlog::error("request_id={} {} {}: unexpected: {}", request.request_id, request.method,
                  request.path, e.what());
    response = Problem(Status(Code::kInternal, e.what()));
  } catch (...) {
    unexpected_errors_.fetch_add(1);
    spdlog::error("request_id={} {} {}: unexpected non-standard exception", request.request_id,
                  request.method, request.path);
    response = Problem(Status(Code::kInternal, "unexpected"));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.Record(route_name, response.status, seconds);
  if (response.status >= 500) {
    spdlog::warn("request_id={} {} {} -> {} ({:.1f} ms): {}", request.request_id, request.method,
                 request.path, response.status, seconds * 1000, response.body);
  } else {
    spdlog::debug("request_id={} {} {} -> {} ({:.1f} ms)", request.request_id, request.method,
                  request.path, response.status, seconds * 1000);
  }
  response.headers.emplace_back("X-Request-Id", request.request_id);
  return response;
}

}  // namespace tandem::api
