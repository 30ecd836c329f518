// Product barcodes: GTIN-13 / EAN-13 codes, validated by their check digit, so that a code typed
// or scanned wrong is refused before it is stored or compared with a shipment's units.
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/base/result.h"

namespace tandem::catalog {

inline constexpr size_t kEan13Digits = 13;

// True when `code` is exactly 13 ASCII digits whose last is the check digit of the first 12.
// No spaces, dashes or other characters are accepted.
bool ValidEan13(std::string_view code);

// The check digit ('0'..'9') of a GTIN-13 whose first 12 digits are `twelve_digits`.
// Precondition (TANDEM_CHECK): exactly 12 ASCII digits.
char Ean13CheckDigit(std::string_view twelve_digits);

// A valid EAN-13 made of `prefix` (1-11 digits, e.g. "955", Malaysia's GS1 prefix), `number`
// padded with zeros to fill 12 digits, and the check digit: MakeEan13("955", 42) is
// "9550000000421". For demo and test data. kInvalidArgument when the prefix is not 1-11 digits
// or `number` is negative or does not fit in the digits the prefix leaves.
Result<std::string> MakeEan13(std::string_view prefix, int64_t number);

}  // namespace tandem::catalog
