// Layout shared by the documents: colours, margins, and a table whose rows flow onto further
// pages. Internal to documents/. Not thread-safe (it draws into one Pdf).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tandem/documents/pdf.h"

namespace tandem::documents {

inline constexpr Rgb kInk{0.11f, 0.12f, 0.14f};
inline constexpr Rgb kMuted{0.42f, 0.44f, 0.47f};
inline constexpr Rgb kAccent{0.10f, 0.22f, 0.40f};
inline constexpr Rgb kRule{0.80f, 0.81f, 0.83f};
inline constexpr Rgb kHeaderFill{0.93f, 0.94f, 0.96f};

inline constexpr float kMargin = 48;
inline constexpr float kLeft = kMargin;
inline constexpr float kRight = Pdf::kPageWidth - kMargin;
inline constexpr float kTop = Pdf::kPageHeight - kMargin;
inline constexpr float kFooterTop = 56;  // nothing but the footer below this

inline constexpr float kLineAdvance = 1.3f;  // line height as a multiple of the font size

struct TextLine {
  std::string text;
  Font font = Font::kRegular;
  float size = 9;
  Rgb color = kInk;
};

struct Column {
  float left = 0;
  float right = 0;
  Align align = Align::kLeft;
};

struct TableRow {
  std::vector<std::vector<TextLine>> cells;  // one per column
  bool checkbox = false;                     // an empty box in the first column
  int repeated_cells = 0;  // leading cells whose first line a split row repeats on the next page
};

// Where the next thing goes: a page and the y of its top; `fresh` while nothing is on the page
// below its header.
struct Cursor {
  int page = 0;
  float y = 0;
  bool fresh = true;
};

// Lines of `text` wrapped to the column's width, styled alike.
std::vector<TextLine> WrapLines(const Pdf& pdf, const std::string& text, const Column& column,
                                Font font, float size, Rgb color, int max_lines);

// Draws the rows from the cursor down. A row that does not fit above kFooterTop goes to a new page,
// which `new_page` starts (header included) and returns the cursor of; a row taller than a page
// is split between pages. Nothing is dropped.
void DrawRows(Pdf& pdf, const std::vector<Column>& columns, const std::vector<TableRow>& rows,
              Cursor* cursor, const std::function<Cursor()>& new_page);

// The header row of a table: a band with the column titles.
void DrawTableHeader(Pdf& pdf, const std::vector<Column>& columns,
                     const std::vector<std::string>& titles, Cursor* cursor);

// "Page 2 of 3" and a line of text in the footer of every page.
void DrawFooters(Pdf& pdf, const std::string& left_text);

}  // namespace tandem::documents
