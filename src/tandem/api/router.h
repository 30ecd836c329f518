// The route table: method + path pattern ("/api/v1/orders/{id}") → handler.
// Built once at start-up, then only read: safe to use from many threads after that.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tandem/api/http.h"

namespace tandem::api {

// A handler that may block (it waits for its reads and writes): runs on a worker thread.
using Handler = std::function<Response(Request&)>;
// A handler that does not wait for its write: runs on the I/O thread and answers through Respond,
// typically once its write is durable (WriteJsonAsync); the only wait it may have is a short read
// (a signed-in caller's session). The request stays valid until it has answered.
using AsyncHandler = std::function<void(Request&, Respond)>;

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;             // exactly one of the two is set
  AsyncHandler async_handler;
  std::vector<std::string> segments;  // the pattern split at '/', once
  std::string name;                   // "GET /api/v1/orders/{id}", for metrics
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);
  void AddAsync(std::string method, std::string pattern, AsyncHandler handler);

  enum class MatchKind { kFound, kNoPath, kWrongMethod };
  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;
    std::string allowed;  // for kWrongMethod: the methods the path has, e.g. "GET, HEAD, POST"
  };
  // Finds the route for the request and fills request.params.
  Match Find(Request& request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  void AddRoute(Route route);

  std::vector<Route> routes_;
};

}  // namespace tandem::api
