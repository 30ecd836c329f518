#include "tandem/base/file_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>

#include "tandem/base/limits.h"

namespace tandem {
namespace {

// How far from its end a PDF's %%EOF may be: trailing line ends, or padding some writers add.
constexpr size_t kPdfTailBytes = 1024;

Status Damaged(std::string what) { return Status(Code::kDamagedFile, std::move(what)); }

uint8_t Byte(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

uint32_t BigEndian32(std::string_view s, size_t i) {
  return uint32_t{Byte(s, i)} << 24 | uint32_t{Byte(s, i + 1)} << 16 |
         uint32_t{Byte(s, i + 2)} << 8 | uint32_t{Byte(s, i + 3)};
}

// UTF-8 without control characters but tab and line ends; `head` may end inside a character.
bool LooksLikeText(std::string_view head) {
  size_t i = 0;
  while (i < head.size()) {
    uint8_t c = Byte(head, i);
    size_t more = c < 0x80                   ? 0
                  : (c >= 0xC2 && c <= 0xDF) ? 1
                  : (c >= 0xE0 && c <= 0xEF) ? 2
                  : (c >= 0xF0 && c <= 0xF4) ? 3
                                             : 4;
    if (more == 4) return false;
    if (more == 0 && c < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;
    if (more == 0 && c == 0x7F) return false;
    for (size_t k = 1; k <= more && i + k < head.size(); ++k) {
      if ((Byte(head, i + k) & 0xC0) != 0x80) return false;
    }
    i += 1 + more;
  }
  return true;
}

// What a refused file most likely is, for the message ("" when unknown).
std::string_view LooksLike(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.starts_with(magic); };
  if (starts("MZ")) return "a Windows program";
  if (starts("\x7f"
             "ELF"))
    return "a Linux program";
  if (starts("PK\x03\x04")) return "a ZIP archive or Office document";
  if (starts("\xD0\xCF\x11\xE0")) return "an old Office document";
  if (starts("GIF87a") || starts("GIF89a")) return "a GIF image";
  if (starts("RIFF") && b.size() >= 12 && b.substr(8, 4) == "WEBP") return "a WebP image";
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    std::string_view brand = b.substr(8, 4);
    if (brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1") {
      return "a HEIC photo";
    }
    return "a video";
  }
  if (starts("{\\rtf")) return "an RTF document";
  std::string head(b.substr(0, 512));
  size_t first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (first != std::string::npos && head[first] == '<') {
    if (head.find("<html", first) != std::string::npos ||
        head.find("<!doctype html", first) != std::string::npos) {
      return "an HTML page";
    }
    return "an XML or SVG file";
  }
  return LooksLikeText(b.substr(0, 512)) ? "a text file" : "";
}

Status Unsupported(std::string_view bytes) {
  std::string message = "not a PDF, JPEG or PNG file";
  if (std::string_view like = LooksLike(bytes); !like.empty()) {
    message += " (it looks like ";
    message += like;
    message += ")";
  }
  return Status(Code::kUnsupportedFileType, std::move(message));
}

bool IsPdfSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "%PDF-1.7" ... "startxref" EOL offset EOL "%%EOF" [trailing bytes], where the offset leads to
// a cross-reference table ("xref") or stream ("12 0 obj").
Status CheckPdf(std::string_view b) {
  size_t tail_from = b.size() > kPdfTailBytes ? b.size() - kPdfTailBytes : 0;
  size_t eof = b.substr(tail_from).rfind("%%EOF");
  if (eof == std::string_view::npos) {
    return Damaged("the PDF is cut short: no %%EOF in its last 1 KiB");
  }
  eof += tail_from;
  size_t startxref = b.rfind("startxref", eof);
  if (startxref == std::string_view::npos) return Damaged("the PDF has no startxref before %%EOF");
  size_t i = startxref + 9;
  while (i < eof && IsPdfSpace(b[i])) ++i;
  size_t digits_from = i;
  uint64_t offset = 0;
  while (i < eof && IsDigit(b[i]) && i - digits_from < 12) offset = offset * 10 + (b[i++] - '0');
  size_t digits = i - digits_from;
  while (i < eof && IsPdfSpace(b[i])) ++i;
  if (digits == 0 || i != eof) return Damaged("the PDF's startxref is not followed by an offset");
  if (offset >= startxref) return Damaged("the PDF's startxref points past its end");
  std::string_view at = b.substr(offset, startxref - offset);
  if (at.starts_with("xref")) return Status::Ok();
  // A cross-reference stream: "<number> <generation> obj".
  size_t j = 0;
  for (int number = 0; number < 2; ++number) {
    size_t from = j;
    while (j < at.size() && IsDigit(at[j])) ++j;
    if (j == from) return Damaged("the PDF's startxref points at no cross-reference");
    size_t spaces = j;
    while (j < at.size() && IsPdfSpace(at[j])) ++j;
    if (j == spaces) return Damaged("the PDF's startxref points at no cross-reference");
  }
  if (!at.substr(j).starts_with("obj")) {
    return Damaged("the PDF's startxref points at no cross-reference");
  }
  return Status::Ok();
}

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

// CRC-32 as PNG (and zlib) compute it.
uint32_t Crc32(std::string_view data) {
  static constexpr std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// The signature, then chunks (length, type, data, CRC of type and data): IHDR first, at least one
// IDAT, IEND last and nothing after it.
Status CheckPng(std::string_view b) {
  size_t pos = 8;
  bool seen_idat = false;
  for (int chunk = 0;; ++chunk) {
    if (b.size() - pos < 12) return Damaged("the PNG is cut short before its IEND chunk");
    uint32_t length = BigEndian32(b, pos);
    std::string_view type = b.substr(pos + 4, 4);
    if (!std::all_of(type.begin(), type.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); })) {
      return Damaged("the PNG has a chunk with a malformed type at byte " + std::to_string(pos));
    }
    if (length > 0x7FFFFFFFu || length > b.size() - pos - 12) {
      return Damaged("the PNG is cut short inside its " + std::string(type) + " chunk");
    }
    if (Crc32(b.substr(pos + 4, 4 + length)) != BigEndian32(b, pos + 8 + length)) {
      return Damaged("the PNG's " + std::string(type) + " chunk fails its checksum");
    }
    if (chunk == 0) {
      if (type != "IHDR" || length != 13) return Damaged("the PNG does not start with IHDR");
      uint32_t width = BigEndian32(b, pos + 8), height = BigEndian32(b, pos + 12);
      if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu) {
        return Damaged("the PNG's width or height is out of range");
      }
    } else if (type == "IHDR") {
      return Damaged("the PNG has a second IHDR chunk");
    }
    pos += 12 + length;
    if (type == "IDAT") seen_idat = true;
    if (type == "IEND") {
      if (!seen_idat) return Damaged("the PNG has no image data");
      if (pos != b.size()) {
        return Status(Code::kUnsupportedFileType, "the PNG carries other data after its end");
      }
      return Status::Ok();
    }
  }
}

// SOI, then segments (FF, marker, big-endian length counting itself) up to EOI: a frame header
// (SOFn) before the first scan, at least one scan, and inside a scan FF only as FF00, a restart
// marker or fill. After EOI anything may follow.
Status CheckJpeg(std::string_view b) {
  size_t pos = 2;
  bool seen_frame = false, seen_scan = false;
  while (true) {
    if (pos >= b.size()) return Damaged("the JPEG is cut short before its end marker");
    if (Byte(b, pos) != 0xFF) {
      return Damaged("the JPEG has no segment marker at byte " + std::to_string(pos));
    }
    while (pos < b.size() && Byte(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return Damaged("the JPEG is cut short before its end marker");
    uint8_t marker = Byte(b, pos++);
    if (marker == 0xD9) {
      if (!seen_scan) return Damaged("the JPEG has no image data");
      return Status::Ok();
    }
    if (marker == 0x00 || marker == 0xD8) {
      return Damaged("the JPEG has a misplaced marker at byte " + std::to_string(pos - 1));
    }
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // no length
    if (b.size() - pos < 2) return Damaged("the JPEG is cut short inside a segment");
    size_t length = size_t{Byte(b, pos)} << 8 | Byte(b, pos + 1);
    if (length < 2) return Damaged("the JPEG has a segment of impossible length");
    if (length > b.size() - pos) return Damaged("the JPEG is cut short inside a segment");
    bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    seen_frame = seen_frame || frame;
    pos += length;
    if (marker != 0xDA) continue;
    if (!seen_frame) return Damaged("the JPEG has a scan before its frame header");
    seen_scan = true;
    // Entropy-coded data up to the next marker.
    while (true) {
      const void* ff = std::memchr(b.data() + pos, 0xFF, b.size() - pos);
      if (ff == nullptr) return Damaged("the JPEG is cut short inside its image data");
      pos = static_cast<size_t>(static_cast<const char*>(ff) - b.data());
      if (pos + 1 >= b.size()) return Damaged("the JPEG is cut short inside its image data");
      uint8_t next = Byte(b, pos + 1);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        pos += 2;
      } else if (next == 0xFF) {
        ++pos;
      } else {
        break;  // a marker: the scan ends here
      }
    }
  }
}

}  // namespace

Result<FileType> DetectProofFile(std::string_view bytes) {
  if (bytes.size() > kProofFileBytesMax) {
    return Status(Code::kFileTooLarge, "the file has " + std::to_string(bytes.size()) +
                                           " bytes; at most " + std::to_string(kProofFileBytesMax) +
                                           " (10 MiB) are accepted");
  }
  if (bytes.empty()) return Status(Code::kEmptyFile, "the file is empty");
  if (bytes.size() >= 8 && bytes.starts_with("%PDF-") && IsDigit(bytes[5]) && bytes[6] == '.' &&
      IsDigit(bytes[7])) {
    TANDEM_RETURN_IF_ERROR(CheckPdf(bytes));
    return FileType::kPdf;
  }
  if (bytes.starts_with("\x89PNG\r\n\x1a\n")) {
    TANDEM_RETURN_IF_ERROR(CheckPng(bytes));
    return FileType::kPng;
  }
  if (bytes.starts_with("\xFF\xD8\xFF")) {
    TANDEM_RETURN_IF_ERROR(CheckJpeg(bytes));
    return FileType::kJpeg;
  }
  return Unsupported(bytes);
}

std::string_view MimeType(FileType type) {
  switch (type) {
    case FileType::kPdf:
      return "application/pdf";
    case FileType::kJpeg:
      return "image/jpeg";
    case FileType::kPng:
      return "image/png";
  }
  return "application/octet-stream";
}

std::string_view Extension(FileType type) {
  switch (type) {
    case FileType::kPdf:
      return "pdf";
    case FileType::kJpeg:
      return "jpg";
    case FileType::kPng:
      return "png";
  }
  return "bin";
}

}  // namespace tandem
