#include "tandem/api/router.h"

#include <map>
#include <string_view>

namespace tandem::api {
namespace {

// "/a/b/c" → {"a", "b", "c"} (views into `path`).
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool Matches(const Route& route, const std::vector<std::string_view>& got) {
  if (route.segments.size() != got.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string& want = route.segments[i];
    if (IsParam(want) ? got[i].empty() : want != got[i]) return false;
  }
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  AddRoute(Route{std::move(method), std::move(pattern), std::move(handler), {}, {}, {}});
}

void Router::AddAsync(std::string method, std::string pattern, AsyncHandler handler) {
  AddRoute(Route{std::move(method), std::move(pattern), {}, std::move(handler), {}, {}});
}

void Router::AddRoute(Route route) {
  for (std::string_view s : Split(route.pattern)) route.segments.emplace_back(s);
  route.name = route.method + " " + route.pattern;
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(Request& request) const {
  Match match;
  std::vector<std::string_view> got = Split(request.path);
  for (const Route& r : routes_) {
    if (!Matches(r, got)) continue;
    if (r.method == request.method || (r.method == "GET" && request.method == "HEAD")) {
      std::map<std::string, std::string> params;
      for (size_t i = 0; i < got.size(); ++i) {
        const std::string& want = r.segments[i];
        if (IsParam(want)) params[want.substr(1, want.size() - 2)] = std::string(got[i]);
      }
      request.params = std::move(params);
      return Match{MatchKind::kFound, &r};
    }
    match.kind = MatchKind::kWrongMethod;
    if (!match.allowed.empty()) match.allowed += ", ";
    match.allowed += r.method == "GET" ? "GET, HEAD" : r.method;
  }
  return match;
}

}  // namespace tandem::api
