// Pdf: the module's one use of libharu. A4 portrait pages, Helvetica and Helvetica-Bold in
// WinAnsiEncoding; text comes in as UTF-8 (ToWinAnsi in format.h says what is lost), positions
// are PDF points from the page's bottom-left corner. Whatever libharu reports through its error
// callback is kept, later drawing is skipped, and Finish returns the first error as a Status: a
// document never aborts the process. Not thread-safe: one Pdf per document, on one thread (any).
//
// Internal to documents/; the renderers (invoice.h, pick_list.h) are the public face.
#pragma once

#include <hpdf.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem::documents {

enum class Font { kRegular, kBold };
enum class Align { kLeft, kRight };

struct Rgb {
  float r = 0;
  float g = 0;
  float b = 0;
};

class Pdf {
 public:
  static constexpr float kPageWidth = 595.276f;   // A4
  static constexpr float kPageHeight = 841.89f;

  explicit Pdf(std::string_view title);
  ~Pdf();
  Pdf(const Pdf&) = delete;
  Pdf& operator=(const Pdf&) = delete;

  // Appends a page; returns its index.
  int AddPage();
  int page_count() const { return static_cast<int>(pages_.size()); }

  // Draws one line of text with its baseline at y; with kRight, `x` is where the text ends.
  void Text(int page, float x, float y, Font font, float size, Rgb color, std::string_view utf8,
            Align align = Align::kLeft);
  // The width of `utf8` in points.
  float Width(Font font, float size, std::string_view utf8) const;
  // `utf8` in lines of at most `width` points, broken between words (within a word too long for
  // a line) and at '\n'. Past `max_lines` the last line ends in "…". Empty text: no lines.
  std::vector<std::string> Wrap(std::string_view utf8, Font font, float size, float width,
                                int max_lines) const;

  void Line(int page, float x1, float y1, float x2, float y2, float line_width, Rgb color);
  void FillRect(int page, float x, float y, float width, float height, Rgb color);
  void StrokeRect(int page, float x, float y, float width, float height, float line_width,
                  Rgb color);

  // The PDF file, or kInternal with the first error libharu reported.
  [[nodiscard]] Result<std::string> Finish();

 private:
  static void OnError(HPDF_STATUS error, HPDF_STATUS detail, void* self);
  bool failed() const { return doc_ == nullptr || error_ != HPDF_OK; }
  HPDF_Page PageAt(int page) const;
  HPDF_Font FontOf(Font font) const { return font == Font::kBold ? bold_ : regular_; }
  float EncodedWidth(Font font, float size, std::string_view encoded) const;

  HPDF_Doc doc_ = nullptr;
  HPDF_STATUS error_ = HPDF_OK;
  HPDF_STATUS error_detail_ = HPDF_OK;
  bool reading_ = false;  // reading the finished file, where libharu signals its end as an error
  HPDF_Font regular_ = nullptr;
  HPDF_Font bold_ = nullptr;
  // Advance widths of each WinAnsi byte in 1/1000 em, per Font.
  std::array<std::array<float, 256>, 2> widths_{};
  std::vector<HPDF_Page> pages_;
};

}  // namespace tandem::documents
