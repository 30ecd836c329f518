#include "tandem/documents/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "tandem/base/limits.h"

namespace tandem::documents {
namespace {

constexpr int kQuietZoneModules = 4;  // the margin the QR specification asks for
constexpr int kPixelsPerModule = 8;   // the SVG's default size; it scales

struct QrCodeFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

Result<QrMatrix> QrEncode(std::string_view text) {
  if (text.empty()) return Status(Code::kInvalidArgument, "QR text is empty");
  if (text.size() > kQrTextBytesMax) {
    return Status(Code::kLimitExceeded,
                  "QR text is longer than " + std::to_string(kQrTextBytesMax) + " bytes");
  }
  // Whole bytes (8-bit mode), so that any text, NUL included, round-trips.
  errno = 0;
  std::unique_ptr<QRcode, QrCodeFree> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (code == nullptr || code->width <= 0) {
    return Status(Code::kInternal, "QR encoding failed (errno " + std::to_string(errno) + ")");
  }
  QrMatrix matrix;
  matrix.version = code->version;
  matrix.width = code->width;
  matrix.dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < matrix.dark.size(); ++i) matrix.dark[i] = (code->data[i] & 1) != 0;
  return matrix;
}

Result<std::string> QrSvg(std::string_view text) {
  Result<QrMatrix> encoded = QrEncode(text);
  if (!encoded.ok()) return encoded.status();
  const QrMatrix& qr = encoded.value();
  const std::string side = std::to_string(qr.width + 2 * kQuietZoneModules);
  const std::string pixels = std::to_string((qr.width + 2 * kQuietZoneModules) * kPixelsPerModule);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " +
                    side + "\" width=\"" + pixels + "\" height=\"" + pixels +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"" + side + "\" height=\"" +
                    side + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One rectangle per horizontal run of dark modules.
  for (int y = 0; y < qr.width; ++y) {
    int x = 0;
    while (x < qr.width) {
      if (!qr.dark[static_cast<size_t>(y) * qr.width + x]) {
        ++x;
        continue;
      }
      int run = 0;
      while (x + run < qr.width && qr.dark[static_cast<size_t>(y) * qr.width + x + run]) ++run;
      svg += "M" + std::to_string(x + kQuietZoneModules) + " " +
             std::to_string(y + kQuietZoneModules) + "h" + std::to_string(run) + "v1h-" +
             std::to_string(run) + "z";
      x += run;
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace tandem::documents
