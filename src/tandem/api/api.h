// The HTTP API as a whole: the route table, and Handle(), which every request goes through —
// routing, the top-level catch that turns anything unexpected into a 500, request ids, metrics.
// Thread-safe once constructed.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "tandem/api/context.h"
#include "tandem/api/http.h"
#include "tandem/api/metrics.h"
#include "tandem/api/router.h"

namespace tandem::api {

class Api {
 public:
  Api(storage::Database& db, const Clock& clock, ApiOptions options);

  // Answers one request. Never throws.
  Response Handle(Request& request);
  const Router& router() const { return router_; }
  // /readyz answers 503 until the server is ready and after shutdown began.
  void SetReady(bool ready) { ready_.store(ready); }

 private:
  Response Dispatch(Request& request, std::string& route_name);

  Metrics metrics_;
  ApiContext ctx_;
  Router router_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> unexpected_errors_{0};
};

// The OpenAPI 3 document served at /api/v1/openapi.json.
const std::string& OpenApiDocument();

}  // namespace tandem::api
