// The three assertion levels (see STYLE.md).
//
//   TANDEM_DCHECK(cond)      debug builds only; free in release.
//   TANDEM_CHECK(cond)       always on; an invariant broke, so the current request fails loudly:
//                            throws CheckFailure, which the HTTP layer turns into a 500 and a log.
//   TANDEM_UNEXPECTED(what)  "should never happen" but survivable: logs and counts, goes on.
//
// All are safe from any thread.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tandem {

class CheckFailure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void FailCheck(const char* expr, const char* file, int line);
void ReportUnexpected(const char* what, const char* file, int line);
// How many TANDEM_UNEXPECTED and failed TANDEM_CHECKs happened since start (for /metrics).
uint64_t UnexpectedCount();
uint64_t CheckFailureCount();

}  // namespace tandem

#define TANDEM_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::tandem::FailCheck(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define TANDEM_DCHECK(cond) static_cast<void>(0)
#else
#define TANDEM_DCHECK(cond) TANDEM_CHECK(cond)
#endif

#define TANDEM_UNEXPECTED(what) ::tandem::ReportUnexpected((what), __FILE__, __LINE__)
