// Clock: the seam for "now". SystemClock is the real one; testing/fake_clock.h the fake.
// Implementations must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tandem {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

// RFC 3339 UTC with milliseconds, e.g. "2026-11-23T19:40:00.123Z".
std::string FormatTimestamp(int64_t unix_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (RFC 3339, UTC); nullopt when it is not one.
std::optional<int64_t> ParseTimestamp(const std::string& text);
// The calendar year (UTC) of a timestamp.
int YearOf(int64_t unix_ms);

}  // namespace tandem
