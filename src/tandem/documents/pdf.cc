#include "tandem/documents/pdf.h"

#include <cstdio>

#include "tandem/documents/format.h"

namespace tandem::documents {
namespace {

constexpr char kEncoding[] = "WinAnsiEncoding";
constexpr char kEllipsis[] = "\xE2\x80\xA6";  // U+2026, one byte (0x85) in WinAnsi

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

void Pdf::OnError(HPDF_STATUS error, HPDF_STATUS detail, void* self) {
  Pdf* pdf = static_cast<Pdf*>(self);
  if (pdf->reading_ && error == HPDF_STREAM_EOF) return;
  if (pdf->error_ == HPDF_OK) {
    pdf->error_ = error;
    pdf->error_detail_ = detail;
  }
}

Pdf::Pdf(std::string_view title) {
  doc_ = HPDF_New(&Pdf::OnError, this);
  if (doc_ == nullptr) return;
  HPDF_SetCompressionMode(doc_, HPDF_COMP_ALL);
  regular_ = HPDF_GetFont(doc_, "Helvetica", kEncoding);
  bold_ = HPDF_GetFont(doc_, "Helvetica-Bold", kEncoding);
  if (failed() || regular_ == nullptr || bold_ == nullptr) {
    if (error_ == HPDF_OK) error_ = HPDF_INVALID_FONT;
    return;
  }
  for (int font = 0; font < 2; ++font) {
    for (int byte = 1; byte < 256; ++byte) {
      const HPDF_BYTE text[1] = {static_cast<HPDF_BYTE>(byte)};
      widths_[font][byte] =
          static_cast<float>(HPDF_Font_TextWidth(font == 0 ? regular_ : bold_, text, 1).width);
    }
  }
  const std::string encoded = ToWinAnsi(title);
  HPDF_SetInfoAttr(doc_, HPDF_INFO_TITLE, encoded.c_str());
  HPDF_SetInfoAttr(doc_, HPDF_INFO_CREATOR, "Tandem");
}

Pdf::~Pdf() {
  if (doc_ != nullptr) HPDF_Free(doc_);
}

int Pdf::AddPage() {
  HPDF_Page page = nullptr;
  if (!failed()) {
    page = HPDF_AddPage(doc_);
    if (page != nullptr) HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
  }
  pages_.push_back(page);
  return page_count() - 1;
}

HPDF_Page Pdf::PageAt(int page) const {
  if (failed() || page < 0 || page >= page_count()) return nullptr;
  return pages_[page];
}

float Pdf::EncodedWidth(Font font, float size, std::string_view encoded) const {
  const auto& widths = widths_[font == Font::kBold ? 1 : 0];
  float units = 0;
  for (char c : encoded) units += widths[static_cast<unsigned char>(c)];
  return units * size / 1000.0f;
}

float Pdf::Width(Font font, float size, std::string_view utf8) const {
  return EncodedWidth(font, size, ToWinAnsi(utf8));
}

void Pdf::Text(int page_index, float x, float y, Font font, float size, Rgb color,
               std::string_view utf8, Align align) {
  HPDF_Page page = PageAt(page_index);
  if (page == nullptr || utf8.empty()) return;
  const std::string encoded = ToWinAnsi(utf8);
  if (align == Align::kRight) x -= EncodedWidth(font, size, encoded);
  HPDF_Page_SetRGBFill(page, color.r, color.g, color.b);
  HPDF_Page_BeginText(page);
  HPDF_Page_SetFontAndSize(page, FontOf(font), size);
  HPDF_Page_TextOut(page, x, y, encoded.c_str());
  HPDF_Page_EndText(page);
}

std::vector<std::string> Pdf::Wrap(std::string_view utf8, Font font, float size, float width,
                                   int max_lines) const {
  std::vector<std::string> lines;
  if (max_lines <= 0) return lines;
  std::vector<size_t> starts;
  const std::string encoded = ToWinAnsi(utf8, &starts);
  const auto& widths = widths_[font == Font::kBold ? 1 : 0];
  const float max_units = width * 1000.0f / size;
  const size_t n = encoded.size();
  // The UTF-8 text of encoded bytes [from, to).
  const auto original = [&](size_t from, size_t to) {
    const size_t end = to < n ? starts[to] : utf8.size();
    return std::string(utf8.substr(starts[from], end - starts[from]));
  };
  size_t pos = 0;
  bool truncated = false;
  size_t last_from = 0;
  size_t last_to = 0;
  while (pos < n) {
    while (pos < n && encoded[pos] == ' ') ++pos;
    if (pos >= n) break;
    if (static_cast<int>(lines.size()) == max_lines) {
      truncated = true;
      break;
    }
    // The longest run from pos that fits, and the last space inside it.
    float units = 0;
    size_t end = pos;
    size_t space = n;
    bool hard_break = false;
    while (end < n) {
      if (utf8[starts[end]] == '\n') {
        hard_break = true;
        break;
      }
      units += widths[static_cast<unsigned char>(encoded[end])];
      if (units > max_units) break;
      if (encoded[end] == ' ') space = end;
      ++end;
    }
    size_t next = end;
    if (!hard_break && end < n) {
      if (encoded[end] == ' ') {
        next = end + 1;  // the first character that does not fit is a space: break there
      } else if (space != n && space > pos) {
        end = space;
        next = space + 1;
      } else if (end == pos) {
        end = pos + 1;  // not even one character fits: take it anyway
        next = end;
      }
    }
    if (hard_break) next = end + 1;
    last_from = pos;
    last_to = end;
    lines.push_back(std::string(Trimmed(original(pos, end))));
    pos = next;
  }
  if (truncated && !lines.empty()) {
    const float ellipsis_units = widths[0x85];
    size_t to = last_to;
    float units = 0;
    for (size_t i = last_from; i < to; ++i) units += widths[static_cast<unsigned char>(encoded[i])];
    while (to > last_from && units + ellipsis_units > max_units) {
      --to;
      units -= widths[static_cast<unsigned char>(encoded[to])];
    }
    lines.back() = std::string(Trimmed(original(last_from, to))) + kEllipsis;
  }
  return lines;
}

void Pdf::Line(int page_index, float x1, float y1, float x2, float y2, float line_width,
               Rgb color) {
  HPDF_Page page = PageAt(page_index);
  if (page == nullptr) return;
  HPDF_Page_SetRGBStroke(page, color.r, color.g, color.b);
  HPDF_Page_SetLineWidth(page, line_width);
  HPDF_Page_MoveTo(page, x1, y1);
  HPDF_Page_LineTo(page, x2, y2);
  HPDF_Page_Stroke(page);
}

void Pdf::FillRect(int page_index, float x, float y, float width, float height, Rgb color) {
  HPDF_Page page = PageAt(page_index);
  if (page == nullptr) return;
  HPDF_Page_SetRGBFill(page, color.r, color.g, color.b);
  HPDF_Page_Rectangle(page, x, y, width, height);
  HPDF_Page_Fill(page);
}

void Pdf::StrokeRect(int page_index, float x, float y, float width, float height,
                     float line_width, Rgb color) {
  HPDF_Page page = PageAt(page_index);
  if (page == nullptr) return;
  HPDF_Page_SetRGBStroke(page, color.r, color.g, color.b);
  HPDF_Page_SetLineWidth(page, line_width);
  HPDF_Page_Rectangle(page, x, y, width, height);
  HPDF_Page_Stroke(page);
}

Result<std::string> Pdf::Finish() {
  if (!failed() && pages_.empty()) AddPage();
  if (!failed()) HPDF_SaveToStream(doc_);
  std::string file;
  if (!failed()) {
    const HPDF_UINT32 size = HPDF_GetStreamSize(doc_);
    file.resize(size);
    reading_ = true;
    HPDF_ResetStream(doc_);
    HPDF_UINT32 done = 0;
    while (!failed() && done < size) {
      HPDF_UINT32 chunk = size - done;
      const HPDF_STATUS status =
          HPDF_ReadFromStream(doc_, reinterpret_cast<HPDF_BYTE*>(file.data()) + done, &chunk);
      done += chunk;
      if ((status != HPDF_OK && status != HPDF_STREAM_EOF) || chunk == 0) break;
    }
    reading_ = false;
    if (!failed() && done != size) error_ = HPDF_STREAM_EOF;
  }
  if (failed()) {
    char message[96];
    std::snprintf(message, sizeof message, "PDF library error 0x%04X (detail %u)",
                  static_cast<unsigned>(doc_ == nullptr ? 0 : error_),
                  static_cast<unsigned>(error_detail_));
    return Status(Code::kInternal, doc_ == nullptr ? "PDF library out of memory" : message);
  }
  return file;
}

}  // namespace tandem::documents
