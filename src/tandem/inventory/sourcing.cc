#include "tandem/inventory/sourcing.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "tandem/base/check.h"

namespace tandem::inventory {
namespace {

// A candidate with what the ranking needs worked out once.
struct Ranked {
  const SourcingCandidate* c = nullptr;
  int64_t available = 0;  // never negative
  bool full = false;      // at or above its daily capacity
  double load = 0;        // backlog / capacity; 0 when unlimited
  bool preferred = false;
};

// The ranking of the header's rules 1-2 (3 when `use_preferred` is false): a total order,
// since ids are distinct. Equal fractions divide to the same double, so load ties are exact.
bool RanksBefore(const Ranked& a, const Ranked& b, bool use_preferred) {
  if (a.full != b.full) return !a.full;
  if (a.full && a.load != b.load) return a.load < b.load;
  if (use_preferred && a.preferred != b.preferred) return a.preferred;
  const std::optional<double>& da = a.c->distance_km;
  const std::optional<double>& db = b.c->distance_km;
  if (da.has_value() != db.has_value()) return da.has_value();
  if (da && *da != *db) return *da < *db;
  if (a.load != b.load) return a.load < b.load;
  if (a.available != b.available) return a.available > b.available;
  return a.c->location_id < b.c->location_id;
}

std::string LoadText(const SourcingCandidate& c) {
  if (c.daily_capacity == 0) return std::to_string(c.backlog_today) + " today, no daily limit";
  return std::to_string(c.backlog_today) + " of " + std::to_string(c.daily_capacity) + " today";
}

std::string FullText(const SourcingCandidate& c) {
  return "at its daily capacity (" + std::to_string(c.backlog_today) + " of " +
         std::to_string(c.daily_capacity) + ")";
}

// Why `loser`, which also had every unit and is below capacity, lost to `winner` (both not full).
std::string WhyNotChosen(const Ranked& loser, const Ranked& winner) {
  const std::string& w = winner.c->name;
  if (winner.preferred && !loser.preferred) return w + " already serves this order";
  const std::optional<double>& dl = loser.c->distance_km;
  const std::optional<double>& dw = winner.c->distance_km;
  if (!dl && dw) return "distance unknown, " + w + " is " + DistanceText(dw);
  if (dl && *dl != *dw) {
    std::string l = DistanceText(dl), wt = DistanceText(dw);
    return l == wt ? "slightly farther than " + w + " (" + wt + ")"
                   : l + ", farther than " + w + " (" + wt + ")";
  }
  if (loser.load != winner.load) {
    return "as near as " + w + " but busier (" + LoadText(*loser.c) + ", " + w + " " +
           LoadText(*winner.c) + ")";
  }
  if (loser.available != winner.available) {
    return "as near and as busy as " + w + ", which has more available (" +
           std::to_string(winner.available) + " against " + std::to_string(loser.available) + ")";
  }
  return "tied with " + w + ", which comes first";
}

// The fewest locations of `pool` whose units cover `quantity`, taking as much as possible from
// the best ranked first: at each step the best ranked location after which the rest can still
// be covered by the locations left. `pool` is sorted by rank and covers `quantity`.
std::vector<std::pair<const Ranked*, int64_t>> Split(const std::vector<const Ranked*>& pool,
                                                     int64_t quantity) {
  std::vector<int64_t> by_units;
  for (const Ranked* r : pool) by_units.push_back(r->available);
  std::sort(by_units.begin(), by_units.end(), std::greater<>());
  size_t fewest = 0;
  for (int64_t sum = 0; sum < quantity; ++fewest) {
    TANDEM_CHECK(fewest < by_units.size());
    sum += by_units[fewest];
  }

  std::vector<const Ranked*> left_over = pool;
  std::vector<std::pair<const Ranked*, int64_t>> parts;
  int64_t left = quantity;
  for (size_t step = 0; step < fewest; ++step) {
    size_t after = fewest - step - 1;  // locations still to come after this one
    by_units.clear();
    for (const Ranked* r : left_over) by_units.push_back(r->available);
    std::sort(by_units.begin(), by_units.end(), std::greater<>());
    std::vector<int64_t> prefix(by_units.size() + 1, 0);
    for (size_t i = 0; i < by_units.size(); ++i) prefix[i + 1] = prefix[i] + by_units[i];
    // The most `after` locations other than `r` can give.
    auto best_without = [&](const Ranked* r) -> int64_t {
      if (after == 0) return 0;
      if (r->available >= by_units[after - 1]) {
        return prefix[std::min(after + 1, by_units.size())] - r->available;
      }
      return prefix[after];
    };
    auto it = std::find_if(left_over.begin(), left_over.end(), [&](const Ranked* r) {
      return left - std::min(left, r->available) <= best_without(r);
    });
    TANDEM_CHECK(it != left_over.end());  // the one with the most units always fits
    int64_t take = std::min(left, (*it)->available);
    parts.emplace_back(*it, take);
    left -= take;
    left_over.erase(it);
  }
  TANDEM_CHECK(left == 0);
  return parts;
}

}  // namespace

std::string DistanceText(std::optional<double> distance_km) {
  if (!distance_km) return "distance unknown";
  TANDEM_DCHECK(std::isfinite(*distance_km) && *distance_km >= 0);
  if (*distance_km < 1) return "under 1 km";
  return std::to_string(std::llround(*distance_km)) + " km";
}

Result<SourcingPlan> PlanSourcing(const std::vector<SourcingCandidate>& candidates,
                                  int64_t quantity, const std::vector<int64_t>& preferred) {
  TANDEM_CHECK(quantity > 0);
  std::vector<Ranked> ranked;
  ranked.reserve(candidates.size());
  int64_t open_units = 0, full_units = 0;
  for (const SourcingCandidate& c : candidates) {
    TANDEM_DCHECK(c.daily_capacity >= 0 && c.backlog_today >= 0);
    Ranked r;
    r.c = &c;
    r.available = std::max<int64_t>(0, c.available);
    r.full = c.daily_capacity > 0 && c.backlog_today >= c.daily_capacity;
    r.load = c.daily_capacity > 0
                 ? static_cast<double>(c.backlog_today) / static_cast<double>(c.daily_capacity)
                 : 0;
    r.preferred = std::find(preferred.begin(), preferred.end(), c.location_id) != preferred.end();
    (r.full ? full_units : open_units) += r.available;
    ranked.push_back(r);
  }
  if (open_units + full_units < quantity) {
    return Status(Code::kInsufficientStock, "only " + std::to_string(open_units + full_units) +
                                                " of " + std::to_string(quantity) +
                                                " available across " +
                                                std::to_string(candidates.size()) + " locations");
  }
  // Rule 1: full locations only when those below capacity cannot serve the line together.
  bool use_full = open_units < quantity;
  std::vector<const Ranked*> pool;
  for (const Ranked& r : ranked) {
    if (r.available > 0 && (use_full || !r.full)) pool.push_back(&r);
  }
  std::string all = "all " + std::to_string(quantity);

  // Rule 2: one location that has everything.
  std::vector<std::pair<const Ranked*, int64_t>> parts;
  std::vector<std::string> whys;
  const Ranked* single = nullptr;
  for (const Ranked* r : pool) {
    if (r->available >= quantity && (single == nullptr || RanksBefore(*r, *single, true))) {
      single = r;
    }
  }
  if (single != nullptr) {
    parts.emplace_back(single, quantity);
    if (single->full) {
      whys.push_back("at its daily capacity, the least loaded of those with " + all +
                     ": no location below capacity had enough");
    } else if (single->preferred) {
      whys.push_back("already serving this order");
    } else {
      whys.push_back((single->c->distance_km ? "nearest with " : "has ") + all);
    }
  } else {
    // Rule 3: split.
    std::sort(pool.begin(), pool.end(),
              [](const Ranked* a, const Ranked* b) { return RanksBefore(*a, *b, false); });
    parts = Split(pool, quantity);
    bool a_full_one_had_all = std::any_of(ranked.begin(), ranked.end(), [&](const Ranked& r) {
      return r.full && r.available >= quantity;
    });
    for (const auto& [r, units] : parts) {
      if (r->full) {
        whys.push_back("at its daily capacity, used because the others could not cover " + all);
      } else {
        whys.push_back(a_full_one_had_all ? "split: no location below its daily capacity had " + all
                                          : "split: no location had " + all);
      }
    }
  }

  SourcingPlan plan;
  for (size_t i = 0; i < parts.size(); ++i) {
    const SourcingCandidate& c = *parts[i].first->c;
    plan.parts.push_back({c.location_id, parts[i].second,
                          std::to_string(parts[i].second) + " from " + c.name + ", " +
                              DistanceText(c.distance_km) + ", " + LoadText(c) + " (" + whys[i] +
                              ")"});
  }
  std::vector<const Ranked*> others;
  for (const Ranked& r : ranked) {
    bool chosen =
        std::any_of(parts.begin(), parts.end(), [&](const auto& p) { return p.first == &r; });
    if (!chosen) others.push_back(&r);
  }
  std::sort(others.begin(), others.end(),
            [](const Ranked* a, const Ranked* b) { return a->c->location_id < b->c->location_id; });
  for (const Ranked* r : others) {
    std::string reason;
    if (r->available == 0) {
      reason = "none available";
    } else if (r->full) {
      reason = FullText(*r->c);
    } else if (r->available < quantity) {
      reason = single != nullptr
                   ? "has only " + std::to_string(r->available) + " of " + std::to_string(quantity)
                   : "not needed: " + std::to_string(parts.size()) + " locations cover " + all;
    } else {
      TANDEM_DCHECK(single != nullptr && !single->full);
      reason = WhyNotChosen(*r, *single);
    }
    plan.passed_over.push_back({r->c->location_id, r->c->name + " passed over: " + reason});
  }
  return plan;
}

std::vector<Source> SourcesOf(const SourcingPlan& plan) {
  std::vector<Source> sources;
  for (const SourcedPart& p : plan.parts) sources.push_back({p.location_id, p.quantity});
  return sources;
}

}  // namespace tandem::inventory
