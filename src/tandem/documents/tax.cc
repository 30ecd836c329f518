#include "tandem/documents/tax.h"

#include "tandem/base/check.h"
#include "tandem/base/limits.h"

namespace tandem::documents {

Money TaxContained(const Money& gross, int rate_basis_points) {
  TANDEM_CHECK(rate_basis_points >= 0 && rate_basis_points <= kTaxRateBasisPointsMax);
  // 128 bits: any int64 amount times a rate of at most 10,000 fits; the quotient is below |gross|.
  const __int128 numerator = static_cast<__int128>(gross.amount) * rate_basis_points;
  const __int128 denominator = 10'000 + rate_basis_points;
  const bool negative = numerator < 0;
  const __int128 magnitude = negative ? -numerator : numerator;
  __int128 tax = magnitude / denominator;
  if ((magnitude % denominator) * 2 >= denominator) ++tax;
  return Money{static_cast<int64_t>(negative ? -tax : tax), gross.currency};
}

}  // namespace tandem::documents
