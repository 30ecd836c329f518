// Status and Result<T>: how every expected outcome travels through Tandem.
//
// A domain function returns a Result<T>: either a value or a Status with a stable Code. Only
// api/errors.cc knows which HTTP status a Code becomes. Safe to use from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "tandem/base/check.h"

namespace tandem {

// Stable outcome codes. Their snake_case names (CodeName) are part of the public API.
enum class Code {
  kOk,
  kInvalidArgument,      // validation_failed
  kMalformedJson,        // malformed_json
  kNotFound,             // not_found
  kConflict,             // conflict
  kEmailTaken,           // email_taken
  kInsufficientStock,    // insufficient_stock
  kHoldExpired,          // hold_expired
  kInvalidTransition,    // invalid_transition
  kUnauthorized,         // unauthorized
  kForbidden,            // forbidden
  kIdempotencyKeyReused, // idempotency_key_reused
  kPayloadTooLarge,      // payload_too_large
  kTooManyLines,         // too_many_lines
  kCartClosed,           // cart_closed
  kStockCommitted,       // stock_committed
  kMethodNotAllowed,     // method_not_allowed
  kMalformedRequest,     // malformed_request
  kLimitExceeded,        // limit_exceeded
  kHeadersTooLarge,      // headers_too_large
  kWrongItem,            // wrong_item
  kWrongCode,            // wrong_code
  kEmptyFile,            // empty_file
  kUnsupportedFileType,  // unsupported_file_type
  kDamagedFile,          // damaged_file
  kFileTooLarge,         // file_too_large
  kUnavailable,          // unavailable
  kInternal,             // internal_error
};

// The stable snake_case name of a code, as clients see it in problem+json `code`.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    TANDEM_CHECK(!status_.ok());
  }
  Result(Code code, std::string message) : status_(code, std::move(message)) {
    TANDEM_CHECK(code != Code::kOk);
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    TANDEM_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    TANDEM_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    TANDEM_CHECK(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tandem

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define TANDEM_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::tandem::Status tandem_status_ = (expr); \
    if (!tandem_status_.ok()) return tandem_status_; \
  } while (false)
