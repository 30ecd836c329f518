#include "tandem/base/money.h"

namespace tandem {

bool IsCurrencyCode(const std::string& code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

Result<Money> AddMoney(const Money& a, const Money& b) {
  if (a.currency != b.currency) {
    return Status(Code::kInvalidArgument, "cannot add " + a.currency + " to " + b.currency);
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(a.amount, b.amount, &sum)) {
    return Status(Code::kInvalidArgument, "amount overflows");
  }
  return Money{sum, a.currency};
}

Result<Money> MultiplyMoney(const Money& price, int64_t quantity) {
  int64_t product = 0;
  if (__builtin_mul_overflow(price.amount, quantity, &product)) {
    return Status(Code::kInvalidArgument, "amount overflows");
  }
  return Money{product, price.currency};
}

}  // namespace tandem
