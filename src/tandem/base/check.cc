#include "tandem/base/check.h"

#include <atomic>
#include <cstdio>

#include "tandem/base/result.h"

namespace tandem {
namespace {
// Process-wide counters: the only mutable statics in Tandem, read by /metrics.
std::atomic<uint64_t> unexpected_count{0};
std::atomic<uint64_t> check_failure_count{0};
}  // namespace

void FailCheck(const char* expr, const char* file, int line) {
  check_failure_count.fetch_add(1, std::memory_order_relaxed);
  std::string msg = std::string("check failed: ") + expr + " at " + file + ":" + std::to_string(line);
  std::fprintf(stderr, "%s\n", msg.c_str());
  throw CheckFailure(msg);
}

void ReportUnexpected(const char* what, const char* file, int line) {
  unexpected_count.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "unexpected: %s at %s:%d\n", what, file, line);
}

uint64_t UnexpectedCount() { return unexpected_count.load(std::memory_order_relaxed); }
uint64_t CheckFailureCount() { return check_failure_count.load(std::memory_order_relaxed); }

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "validation_failed";
    case Code::kMalformedJson: return "malformed_json";
    case Code::kNotFound: return "not_found";
    case Code::kConflict: return "conflict";
    case Code::kEmailTaken: return "email_taken";
    case Code::kInsufficientStock: return "insufficient_stock";
    case Code::kHoldExpired: return "hold_expired";
    case Code::kInvalidTransition: return "invalid_transition";
    case Code::kUnauthorized: return "unauthorized";
    case Code::kForbidden: return "forbidden";
    case Code::kIdempotencyKeyReused: return "idempotency_key_reused";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kTooManyLines: return "too_many_lines";
    case Code::kCartClosed: return "cart_closed";
    case Code::kStockCommitted: return "stock_committed";
    case Code::kMethodNotAllowed: return "method_not_allowed";
    case Code::kMalformedRequest: return "malformed_request";
    case Code::kLimitExceeded: return "limit_exceeded";
    case Code::kHeadersTooLarge: return "headers_too_large";
    case Code::kWrongItem: return "wrong_item";
    case Code::kWrongCode: return "wrong_code";
    case Code::kEmptyFile: return "empty_file";
    case Code::kUnsupportedFileType: return "unsupported_file_type";
    case Code::kDamagedFile: return "damaged_file";
    case Code::kFileTooLarge: return "file_too_large";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal_error";
  }
  return "internal_error";
}

}  // namespace tandem
