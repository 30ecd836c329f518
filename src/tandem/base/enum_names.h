// Stable names for enums, from one table per enum: {value, "snake_case_name"}.
// Pure functions; safe from any thread.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace tandem {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

// The name of `value`, or "unknown" when the table lacks it.
template <typename E, size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

// The value named `name`, if any.
template <typename E, size_t N>
std::optional<E> ParseName(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace tandem
