// The HTTP API as a whole: the route table, and Handle(), which every request goes through —
// routing, the top-level catch that turns anything unexpected into a 500, request ids, metrics.
// Thread-safe once constructed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tandem/api/context.h"
#include "tandem/api/http.h"
#include "tandem/api/metrics.h"
#include "tandem/api/router.h"
#include "tandem/api/worker_pool.h"

namespace tandem::api {

class Api {
 public:
  Api(storage::Database& db, const Clock& clock, ApiOptions options);

  // Answers one request through `respond`, at once or later from another thread: routes that
  // block run on the worker pool, the others on the calling thread. Never throws. `request` must
  // stay valid until `respond` was called.
  void Handle(Request& request, Respond respond);
  const Router& router() const { return router_; }
  // /readyz answers 503 until the server is ready and after shutdown began.
  void SetReady(bool ready) { ready_.store(ready); }

 private:
  // Runs a handler; what it throws becomes a 500 answer (logged and counted), else nothing.
  std::optional<Response> Unexpected(Request& request, const std::function<void()>& run);
  // True at most once a second: whether this 503 is logged at warn level.
  bool UnavailableLogDue();

  Metrics metrics_;
  ApiContext ctx_;
  Router router_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> unexpected_errors_{0};
  // Steady-clock ms of the last 503 logged at warn level (UnavailableLogDue).
  std::atomic<int64_t> last_unavailable_log_ms_{INT64_MIN / 2};
  WorkerPool workers_;
  WorkerPool hashing_;  // last: its threads stop first (ctx_ refers to it)
};

// The OpenAPI 3 document served at /api/v1/openapi.json.
const std::string& OpenApiDocument();

}  // namespace tandem::api
