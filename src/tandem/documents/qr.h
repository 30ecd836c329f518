// QR codes (libqrencode) for what staff or a customer scans: a pick-up hand-over code, a link.
// Pure functions; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem::documents {

// The modules of a QR code, error correction level M, the smallest version that holds `text`.
struct QrMatrix {
  int version = 0;
  int width = 0;           // modules per side, without the quiet zone (21 for version 1)
  std::vector<bool> dark;  // width × width, row by row
};

// kInvalidArgument when `text` is empty; kLimitExceeded past kQrTextBytesMax bytes; kInternal
// when libqrencode fails.
[[nodiscard]] Result<QrMatrix> QrEncode(std::string_view text);

// A standalone SVG of QrEncode(text), with a quiet zone of four modules, one unit per module
// (viewBox "0 0 w w", w = width + 8); it scales to any size. The same errors as QrEncode.
[[nodiscard]] Result<std::string> QrSvg(std::string_view text);

}  // namespace tandem::documents
