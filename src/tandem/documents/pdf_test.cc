#include "tandem/documents/pdf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tandem::documents {
namespace {

TEST(Pdf, TurnsALibraryErrorIntoAStatusInsteadOfAborting) {
  Pdf pdf("error");
  const int page = pdf.AddPage();
  pdf.Text(page, 10, 10, Font::kRegular, 10'000, Rgb{}, "a font size libharu refuses");
  pdf.Text(page, 10, 30, Font::kRegular, 10, Rgb{}, "drawing after the error is skipped");
  Result<std::string> file = pdf.Finish();
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Code::kInternal);
  EXPECT_NE(file.status().message().find("PDF library error"), std::string::npos);
}

TEST(Pdf, FinishesAnEmptyDocumentWithOnePage) {
  Pdf pdf("empty");
  Result<std::string> file = pdf.Finish();
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file.value().rfind("%PDF-", 0), 0u);
  EXPECT_NE(file.value().find("%%EOF"), std::string::npos);
}

TEST(PdfWrap, BreaksBetweenWordsWithinTheWidth) {
  Pdf pdf("wrap");
  const float width = std::max(pdf.Width(Font::kRegular, 10, "alpha beta"),
                               pdf.Width(Font::kRegular, 10, "gamma delta"));
  const std::vector<std::string> lines =
      pdf.Wrap("alpha beta gamma delta", Font::kRegular, 10, width, 5);
  EXPECT_EQ(lines, (std::vector<std::string>{"alpha beta", "gamma delta"}));
  for (const std::string& line : lines) EXPECT_LE(pdf.Width(Font::kRegular, 10, line), width);
}

TEST(PdfWrap, CutsAWordWiderThanTheLineAndEndsTruncatedTextInAnEllipsis) {
  Pdf pdf("wrap");
  const float width = pdf.Width(Font::kRegular, 10, "xxxxx");
  EXPECT_EQ(pdf.Wrap("xxxxxxxxxxxx", Font::kRegular, 10, width, 5),
            (std::vector<std::string>{"xxxxx", "xxxxx", "xx"}));
  const std::vector<std::string> cut = pdf.Wrap("xxxxxxxxxxxx", Font::kRegular, 10, width, 2);
  ASSERT_EQ(cut.size(), 2u);
  EXPECT_EQ(cut[0], "xxxxx");
  EXPECT_EQ(cut[1].substr(cut[1].size() - 3), "\xE2\x80\xA6");
  EXPECT_LE(pdf.Width(Font::kRegular, 10, cut[1]), width);
}

TEST(PdfWrap, KeepsMultiByteCharactersWholeAndHonoursLineBreaks) {
  Pdf pdf("wrap");
  const std::vector<std::string> lines =
      pdf.Wrap("caf\xC3\xA9 \xF0\x9F\x8E\x89\nnext", Font::kRegular, 10, 500, 5);
  EXPECT_EQ(lines, (std::vector<std::string>{"caf\xC3\xA9 \xF0\x9F\x8E\x89", "next"}));
  EXPECT_TRUE(pdf.Wrap("", Font::kRegular, 10, 100, 3).empty());
}

}  // namespace
}  // namespace tandem::documents
