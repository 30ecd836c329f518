#include "tandem/api/router.h"

namespace tandem::api {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool MatchPattern(const std::string& pattern, const std::string& path,
                  std::map<std::string, std::string>& params) {
  std::vector<std::string> want = Split(pattern);
  std::vector<std::string> got = Split(path);
  if (want.size() != got.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string& w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty()) return false;
      found[w.substr(1, w.size() - 2)] = got[i];
    } else if (w != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), {}});
}

void Router::AddAsync(std::string method, std::string pattern, AsyncHandler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern), {}, std::move(handler)});
}

Router::Match Router::Find(Request& request) const {
  Match match;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchPattern(r.pattern, request.path, params)) continue;
    if (r.method == request.method || (r.method == "GET" && request.method == "HEAD")) {
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
