// Tax contained in tax-inclusive prices (Malaysia's SST, VAT/GST elsewhere). Pure; any thread.
#pragma once

#include "tandem/base/money.h"

namespace tandem::documents {

// The tax inside `gross`, a price that includes tax at `rate_basis_points` (600 = 6 %):
// gross × rate / (10000 + rate), rounded to the nearest minor unit, halves away from zero (so a
// refund's tax is exactly minus the sale's). Same currency as `gross`.
// Precondition: 0 <= rate_basis_points <= kTaxRateBasisPointsMax.
Money TaxContained(const Money& gross, int rate_basis_points);

}  // namespace tandem::documents
