// Money: an integer amount of minor units (sen, cents) and an ISO 4217 currency code.
// Never a double. A value type; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/base/result.h"

namespace tandem {

struct Money {
  int64_t amount = 0;     // minor units
  std::string currency;   // three upper-case letters, e.g. "MYR"

  bool operator==(const Money&) const = default;
};

// True when `code` is three ASCII upper-case letters.
bool IsCurrencyCode(const std::string& code);

// a + b; kInvalidArgument when the currencies differ or the sum overflows.
Result<Money> AddMoney(const Money& a, const Money& b);
// price × quantity; kInvalidArgument on overflow.
Result<Money> MultiplyMoney(const Money& price, int64_t quantity);

}  // namespace tandem
