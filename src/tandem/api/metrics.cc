#include "tandem/api/metrics.h"

#include <sstream>

namespace tandem::api {

void Metrics::Record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  RouteStats& s = routes_[route];
  s.by_status[status]++;
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  s.buckets[i]++;
  s.seconds_sum += seconds;
  s.count++;
}

std::string Metrics::Render(const std::string& extra) const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP tandem_http_requests_total Answered HTTP requests by route and status.\n"
      << "# TYPE tandem_http_requests_total counter\n";
  for (const auto& [route, s] : routes_) {
    for (const auto& [status, n] : s.by_status) {
      out << "tandem_http_requests_total{route=\"" << route << "\",status=\"" << status << "\"} "
          << n << "\n";
    }
  }
  out << "# HELP tandem_http_request_seconds Time to answer, by route.\n"
      << "# TYPE tandem_http_request_seconds histogram\n";
  for (const auto& [route, s] : routes_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += s.buckets[i];
      out << "tandem_http_request_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i]
          << "\"} " << cumulative << "\n";
    }
    cumulative += s.buckets[kBuckets.size()];
    out << "tandem_http_request_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
        << cumulative << "\n";
    out << "tandem_http_request_seconds_sum{route=\"" << route << "\"} " << s.seconds_sum << "\n";
    out << "tandem_http_request_seconds_count{route=\"" << route << "\"} " << s.count << "\n";
  }
  out << extra;
  return out.str();
}

}  // namespace tandem::api
