// Text for printed documents: money, dates, tax rates, and the one-byte encoding (WinAnsi, i.e.
// Windows-1252) that the PDF base fonts draw. Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/money.h"

namespace tandem::documents {

// Digits after the decimal point of a currency's minor unit: 0 (JPY), 3 (KWD) or 2 (the rest).
int CurrencyMinorDigits(std::string_view currency);

// "RM 1,234.50" for MYR, "-RM 5.00" below zero, "SGD 12.00" for a currency without a symbol here.
std::string FormatMoney(const Money& money);

// The calendar date of `at_ms` (ms since the epoch) at a UTC offset in minutes: "12 Mar 2026".
std::string FormatDate(int64_t at_ms, int utc_offset_minutes);
// The same with the time of day: "12 Mar 2026, 14:05".
std::string FormatDateTime(int64_t at_ms, int utc_offset_minutes);

// A tax rate in basis points as a percentage: 600 → "6%", 650 → "6.5%", 825 → "8.25%".
std::string FormatRate(int basis_points);

// UTF-8 → WinAnsi, one byte per code point. A code point WinAnsi lacks (emoji, CJK), and every
// malformed UTF-8 sequence, becomes '?'; control characters become a space; never a 0 byte.
// When `starts` is given, it receives the UTF-8 offset where each output byte's code point begins.
std::string ToWinAnsi(std::string_view utf8, std::vector<size_t>* starts = nullptr);

}  // namespace tandem::documents
