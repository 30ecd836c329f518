// Every limit Tandem enforces on outside input, in one place, unit last.
// A request past a limit is refused with a stable code; tests cover each bound and one past it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

inline constexpr size_t kRequestBodyBytesMax = 1024 * 1024;
inline constexpr size_t kRequestHeaderBytesMax = 16 * 1024;
inline constexpr int kRequestSecondsMax = 30;

inline constexpr int kCartLinesMax = 100;          // distinct SKUs in one cart / order
inline constexpr int64_t kLineQuantityMax = 999;   // units of one SKU in one line
inline constexpr int kProductVariantsMax = 100;
inline constexpr int64_t kVariantWeightGramsMax = 1'000'000;  // 1 tonne
inline constexpr int64_t kPriceAmountMax = 100'000'000'00;  // minor units
inline constexpr int64_t kStockDeltaMax = 1'000'000;        // per adjustment
inline constexpr size_t kTextShortBytesMax = 200;            // names, e-mail, codes
inline constexpr size_t kTextLongBytesMax = 10'000;          // descriptions, notes
inline constexpr size_t kIdempotencyKeyBytesMax = 200;
inline constexpr size_t kSearchQueryBytesMax = 200;
inline constexpr int kSearchTermsMax = 8;
inline constexpr int64_t kSearchOffsetMax = 1'000'000;
inline constexpr int kPageLimitDefault = 20;
inline constexpr int kPageLimitMax = 100;
inline constexpr size_t kPasswordBytesMin = 8;
inline constexpr size_t kPasswordBytesMax = 200;
// A payment proof (PDF, JPEG or PNG, base/file_type.h); the upload route needs a body this large.
inline constexpr size_t kProofFileBytesMax = 10 * 1024 * 1024;

inline constexpr int kTillBatchEventsMax = 500;  // events in one till upload
inline constexpr int kCountLinesMax = 5000;       // lines in one stock count
inline constexpr int kSnapshotOrdersMax = 2000;   // open allocations listed in a till snapshot
inline constexpr int kSaleEventSkusMax = 1000;     // SKUs ring-fenced by one sale event
inline constexpr int kSoldOutCartsMax = 1000;      // carts told at once that a SKU sold out

// Payments and fulfilment.
inline constexpr size_t kPaymentsPerOrderMax = 20;    // payments recorded for one order
inline constexpr size_t kProofsPerPaymentMax = 10;    // proof files of one payment
inline constexpr size_t kUploadBodyBytesMax = 10 * 1024 * 1024;  // a proof file's body (10 MiB)
inline constexpr int64_t kUnpaidBankTransferSecondsDefault = 24 * 3600;
inline constexpr int64_t kUnpaidCardSecondsDefault = 30 * 60;
inline constexpr int64_t kPickupUncollectedSecondsDefault = 7 * 24 * 3600;
inline constexpr int64_t kWebhookToleranceSeconds = 300;  // replay window of signed webhooks
inline constexpr int kExpirySweepBatchMax = 200;      // orders expired by one sweep
inline constexpr int64_t kDailyCapacityMax = 1'000'000;  // parcels a location prepares a day
inline constexpr size_t kHandoverCodeLength = 8;      // a pick-up's hand-over code
// A hosted card page stays open this long (Stripe refuses less than 30 minutes).
inline constexpr int64_t kCardSessionSeconds = 31 * 60;

inline constexpr int64_t kHoldTtlSecondsDefault = 15 * 60;
inline constexpr int64_t kSessionTtlSecondsDefault = 30 * 24 * 3600;  // --session-ttl-seconds
inline constexpr int64_t kSessionTtlSecondsMin = 2;  // renewed when half is left: at least a second
inline constexpr int64_t kSessionTtlSecondsMax = 366 * 24 * 3600;
inline constexpr int64_t kRelatedOrderWindowSeconds = 30 * 60;
inline constexpr int kHoldSweepBatchMax = 1000;
inline constexpr int kWriteBatchMax = 256;    // transactions folded into one commit, few waiting
// When more than four such batches wait, a batch takes a quarter of the queue, up to this: the
// last write waits no longer than it would behind smaller batches, and fewer commits rewrite the
// same hot pages (storage/sqlite/sqlite_database.cc, WriteBatchLimit).
inline constexpr int kDeepWriteBatchMax = 1024;
// Overload (each the default of a `tandem serve` option): past these, a request is answered 503
// with Retry-After at once instead of waiting, and no queue grows without bound.
inline constexpr size_t kWriteQueueMax = 4096;    // writes waiting for the writer
inline constexpr int kConnectionsMax = 10'000;    // open HTTP connections; past it: 503 and close
inline constexpr size_t kQueuedRequestsMax = 1024;  // requests waiting for a worker thread
// Logins and sign-ups waiting for a password-hashing thread (--max-queued-hashes). Short on
// purpose: with two threads at about 25 ms a hash, the last one waits about 100 ms; anything
// more is refused at once rather than left to time out.
inline constexpr size_t kQueuedHashesMax = 8;
// Limits that depend on each other.
static_assert(kWriteBatchMax <= kDeepWriteBatchMax && size_t{kDeepWriteBatchMax} <= kWriteQueueMax,
              "a batch never takes more writes than may wait");
static_assert(kPageLimitDefault <= kPageLimitMax);
static_assert(kSessionTtlSecondsMin <= kSessionTtlSecondsDefault &&
              kSessionTtlSecondsDefault <= kSessionTtlSecondsMax);
static_assert(kPasswordBytesMin < kPasswordBytesMax);
static_assert(kIdempotencyKeyBytesMax + kSearchQueryBytesMax < kRequestHeaderBytesMax,
              "a key and a search fit in the request head");
static_assert(kCartLinesMax * kLineQuantityMax <= INT64_MAX / kPriceAmountMax,
              "an order's total cannot overflow its int64 minor units");

// Card payments through a provider (payments/stripe_signature.h, providers/stripe_client.h).
inline constexpr size_t kWebhookSignatureHeaderBytesMax = 1024;  // a Stripe-Signature value
inline constexpr int64_t kWebhookToleranceSecondsDefault = 5 * 60;  // replay window, either way
inline constexpr int kProviderConnectTimeoutSecondsDefault = 5;
inline constexpr int kProviderRequestTimeoutSecondsDefault = 15;  // the whole call, connecting too
inline constexpr size_t kProviderResponseBytesMax = 1024 * 1024;  // a provider's answer
static_assert(kWebhookSignatureHeaderBytesMax < kRequestHeaderBytesMax);
static_assert(kProviderConnectTimeoutSecondsDefault < kProviderRequestTimeoutSecondsDefault);
static_assert(kProviderRequestTimeoutSecondsDefault < kRequestSecondsMax,
              "a shopper's checkout that calls the provider answers before its own time is up");
// Printable documents (documents/): invoices, credit notes, pick lists, QR codes.
inline constexpr int kDocumentLinesMax = 1000;            // lines of one invoice or pick list
inline constexpr int kPickListOrdersMax = 100;            // orders gathered on one pick list
inline constexpr int kDocumentAddressLinesMax = 8;        // address lines of a seller or buyer
inline constexpr int kTaxRateBasisPointsMax = 10'000;     // 100 %
inline constexpr int kTimezoneOffsetMinutesMax = 14 * 60;  // UTC-14:00 .. UTC+14:00
inline constexpr size_t kQrTextBytesMax = 500;            // a hand-over code or a link
static_assert(kCartLinesMax <= kDocumentLinesMax, "every order fits on one invoice");

// Threads for the handlers that wait (reads, staff writes); the flash-sale path does not wait
// for its write and runs on the I/O threads (one per core but one by default).
inline constexpr int kWorkerThreadsDefault = 64;
// Password-hashing threads (--hash-threads; 0, the default: one per core). Argon2id keeps a core
// busy for each hash, so more threads than cores would only queue inside the kernel.
inline constexpr int kHashThreadsMax = 64;
// The hashing threads' nice value, the lowest: on a busy machine the other requests get the
// cores first and hashing takes what they leave (about 1.5 % of a busy core's share beside them;
// at nice 10 it took a third of a core during a login storm and the flash sale's p99 passed
// 25 ms).
inline constexpr int kHashThreadsNice = 19;

}  // namespace tandem
