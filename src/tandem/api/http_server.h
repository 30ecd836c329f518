// The HTTP/1.1 server (Boost.Beast/Asio; the only translation unit that includes Beast).
//
// Keep-alive connections, `threads` I/O threads, limits on header size, body size and the time to
// read a request; a graceful stop that lets in-flight requests finish. Start() and Stop() may be
// called from any thread; Run() blocks the calling thread until the server has stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tandem/api/http.h"
#include "tandem/base/limits.h"
#include "tandem/base/result.h"

namespace tandem::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port
  int threads = 2;  // I/O threads: they parse, route and send; they never wait
  int stop_grace_seconds = 10;
  // Reading a request, and writing its answer, must each end within this; an idle keep-alive
  // connection is closed after it too.
  int request_seconds = kRequestSecondsMax;
  // Open connections; a request on one past it is answered 503 and its connection closed.
  int connections_max = kConnectionsMax;
};

// Answers a request through Respond, at once or later from any thread; the request stays valid
// until then.
using RequestHandler = std::function<void(Request&, Respond)>;

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestHandler handler);
  ~HttpServer();

  // Binds and listens; the port is known afterwards.
  Status Start();
  uint16_t port() const;
  // Serves until Stop() or SIGTERM/SIGINT; returns once in-flight requests have finished.
  void Run();
  // Stops accepting, lets in-flight requests finish (up to the grace period), then returns Run().
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::api
