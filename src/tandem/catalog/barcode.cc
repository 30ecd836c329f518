#include "tandem/catalog/barcode.h"

#include <algorithm>

#include "tandem/base/check.h"

namespace tandem::catalog {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

char Ean13CheckDigit(std::string_view twelve_digits) {
  TANDEM_CHECK(twelve_digits.size() == kEan13Digits - 1 && AllDigits(twelve_digits));
  // GS1: from the left, digits in odd positions weigh 1 and those in even positions 3.
  int sum = 0;
  for (size_t i = 0; i < twelve_digits.size(); ++i) {
    int digit = twelve_digits[i] - '0';
    sum += (i % 2 == 0) ? digit : 3 * digit;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool ValidEan13(std::string_view code) {
  if (code.size() != kEan13Digits || !AllDigits(code)) return false;
  return Ean13CheckDigit(code.substr(0, kEan13Digits - 1)) == code.back();
}

Result<std::string> MakeEan13(std::string_view prefix, int64_t number) {
  if (prefix.empty() || prefix.size() > kEan13Digits - 2 || !AllDigits(prefix)) {
    return Status(Code::kInvalidArgument, "a barcode prefix is 1 to 11 digits");
  }
  if (number < 0) return Status(Code::kInvalidArgument, "a barcode number is not negative");
  std::string digits = std::to_string(number);
  size_t room = kEan13Digits - 1 - prefix.size();
  if (digits.size() > room) {
    return Status(Code::kInvalidArgument, "number " + digits + " does not fit in " +
                                              std::to_string(room) + " digits after prefix " +
                                              std::string(prefix));
  }
  std::string code(prefix);
  code.append(room - digits.size(), '0');
  code += digits;
  code += Ean13CheckDigit(code);
  TANDEM_DCHECK(ValidEan13(code));
  return code;
}

}  // namespace tandem::catalog
