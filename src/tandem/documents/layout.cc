#include "tandem/documents/layout.h"

#include <algorithm>

namespace tandem::documents {
namespace {

constexpr float kCellPadding = 5;
constexpr float kCheckboxSize = 9;

float LinesHeight(const std::vector<TextLine>& lines) {
  float height = 0;
  for (const TextLine& line : lines) height += line.size * kLineAdvance;
  return height;
}

float RowHeight(const TableRow& row) {
  float height = 0;
  for (const auto& cell : row.cells) height = std::max(height, LinesHeight(cell));
  return height + 2 * kCellPadding;
}

void DrawRow(Pdf& pdf, const std::vector<Column>& columns, const TableRow& row, Cursor* cursor) {
  const float height = RowHeight(row);
  for (size_t c = 0; c < row.cells.size() && c < columns.size(); ++c) {
    float top = cursor->y - kCellPadding;
    for (const TextLine& line : row.cells[c]) {
      const float baseline = top - line.size * 0.95f;
      const float x = columns[c].align == Align::kRight ? columns[c].right : columns[c].left;
      pdf.Text(cursor->page, x, baseline, line.font, line.size, line.color, line.text,
               columns[c].align);
      top -= line.size * kLineAdvance;
    }
  }
  if (row.checkbox && !columns.empty()) {
    pdf.StrokeRect(cursor->page, columns[0].left, cursor->y - kCellPadding - kCheckboxSize - 1,
                   kCheckboxSize, kCheckboxSize, 0.8f, kInk);
  }
  cursor->y -= height;
  pdf.Line(cursor->page, kLeft, cursor->y, kRight, cursor->y, 0.5f, kRule);
  cursor->fresh = false;
}

// Splits `row` so that its first part is at most `height` tall; returns the rest.
TableRow SplitRow(TableRow* row, float height) {
  TableRow rest;
  rest.repeated_cells = row->repeated_cells;
  rest.cells.resize(row->cells.size());
  const float room = height - 2 * kCellPadding;
  for (size_t c = 0; c < row->cells.size(); ++c) {
    auto& lines = row->cells[c];
    float used = 0;
    size_t keep = 0;
    while (keep < lines.size() && used + lines[keep].size * kLineAdvance <= room) {
      used += lines[keep].size * kLineAdvance;
      ++keep;
    }
    if (keep == 0 && !lines.empty()) keep = 1;  // always progress
    rest.cells[c].assign(lines.begin() + static_cast<long>(keep), lines.end());
    if (rest.cells[c].empty() && !lines.empty() && static_cast<int>(c) < row->repeated_cells) {
      rest.cells[c].push_back(lines.front());  // which SKU the rest belongs to
    }
    lines.resize(keep);
  }
  return rest;
}

}  // namespace

std::vector<TextLine> WrapLines(const Pdf& pdf, const std::string& text, const Column& column,
                                Font font, float size, Rgb color, int max_lines) {
  std::vector<TextLine> lines;
  for (std::string& line : pdf.Wrap(text, font, size, column.right - column.left, max_lines)) {
    lines.push_back(TextLine{std::move(line), font, size, color});
  }
  return lines;
}

void DrawRows(Pdf& pdf, const std::vector<Column>& columns, const std::vector<TableRow>& rows,
              Cursor* cursor, const std::function<Cursor()>& new_page) {
  for (const TableRow& original : rows) {
    TableRow row = original;
    while (true) {
      const float room = cursor->y - kFooterTop;
      if (RowHeight(row) <= room) {
        DrawRow(pdf, columns, row, cursor);
        break;
      }
      if (!cursor->fresh) {
        *cursor = new_page();
        continue;
      }
      TableRow rest = SplitRow(&row, room);
      DrawRow(pdf, columns, row, cursor);
      row = std::move(rest);
      *cursor = new_page();
    }
  }
}

void DrawTableHeader(Pdf& pdf, const std::vector<Column>& columns,
                     const std::vector<std::string>& titles, Cursor* cursor) {
  constexpr float kBand = 20;
  pdf.FillRect(cursor->page, kLeft, cursor->y - kBand, kRight - kLeft, kBand, kHeaderFill);
  for (size_t c = 0; c < titles.size() && c < columns.size(); ++c) {
    const float x = columns[c].align == Align::kRight ? columns[c].right : columns[c].left;
    pdf.Text(cursor->page, x, cursor->y - 13.5f, Font::kBold, 7.5f, kMuted, titles[c],
             columns[c].align);
  }
  cursor->y -= kBand;
}

void DrawFooters(Pdf& pdf, const std::string& left_text) {
  const int pages = pdf.page_count();
  for (int page = 0; page < pages; ++page) {
    pdf.Line(page, kLeft, 44, kRight, 44, 0.5f, kRule);
    const std::vector<std::string> left =
        pdf.Wrap(left_text, Font::kRegular, 7.5f, kRight - kLeft - 90, 1);
    if (!left.empty()) pdf.Text(page, kLeft, 32, Font::kRegular, 7.5f, kMuted, left[0]);
    pdf.Text(page, kRight, 32, Font::kRegular, 7.5f, kMuted,
             "Page " + std::to_string(page + 1) + " of " + std::to_string(pages), Align::kRight);
  }
}

}  // namespace tandem::documents
