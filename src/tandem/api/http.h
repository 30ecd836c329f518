// Plain request and response values exchanged between the HTTP server (Boost.Beast, in
// http_server.cc only) and the handlers. No Beast types leak past this header.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tandem::api {

struct Request {
  std::string method;  // "GET", "POST", …
  std::string path;    // decoded path without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string request_id;
  std::map<std::string, std::string> params;  // filled by the router from {name} segments
  // Headers for the answer, whatever it is, set while handling (a renewed session's cookie).
  std::vector<std::pair<std::string, std::string>> answer_headers;

  // The header's value, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
  // The query parameter's value, or "" when absent.
  const std::string& Query(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A 5xx answer's real cause: written to the server's log with the request id, never sent.
  std::string log_detail;
};

// Answers a request, at once or later from another thread; called exactly once per request.
using Respond = std::function<void(Response)>;

// Splits "a=1&b=x%20y" into decoded pairs; later duplicates win.
std::map<std::string, std::string> ParseQuery(const std::string& query);
// Percent-decodes; '+' stays '+' (only the query parser turns it into a space).
std::string PercentDecode(const std::string& text);

}  // namespace tandem::api
