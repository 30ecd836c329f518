// Request counters and latency histograms, rendered in the Prometheus text format at /metrics.
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace tandem::api {

class Metrics {
 public:
  // Records one answered request of a route pattern ("GET /api/v1/orders/{id}").
  void Record(const std::string& route, int status, double seconds);
  // The Prometheus exposition text, plus `extra` lines appended as they are.
  std::string Render(const std::string& extra) const;

 private:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    std::array<uint64_t, kBuckets.size() + 1> buckets{};
    double seconds_sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, RouteStats> routes_;
};

}  // namespace tandem::api
