#include "tandem/documents/qr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "tandem/base/limits.h"

namespace tandem::documents {
namespace {

// Modules of a finder pattern (the 7 × 7 squares in three corners) at (x, y) relative to its
// top-left corner: dark ring, light ring, dark 3 × 3 centre.
bool FinderDark(int x, int y) {
  const int ring = std::min(std::min(x, y), std::min(6 - x, 6 - y));
  return ring != 1;
}

TEST(QrEncode, FitsAShortHandOverCodeInVersionOne) {
  Result<QrMatrix> qr = QrEncode("PU-483920");
  ASSERT_TRUE(qr.ok()) << qr.status().message();
  EXPECT_EQ(qr->version, 1);
  EXPECT_EQ(qr->width, 21);
  ASSERT_EQ(qr->dark.size(), 21u * 21u);
  const int w = qr->width;
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      EXPECT_EQ(qr->dark[y * w + x], FinderDark(x, y)) << "top left " << x << "," << y;
      EXPECT_EQ(qr->dark[y * w + (w - 7 + x)], FinderDark(x, y)) << "top right";
      EXPECT_EQ(qr->dark[(w - 7 + y) * w + x], FinderDark(x, y)) << "bottom left";
    }
  }
}

TEST(QrEncode, GrowsWithTheText) {
  Result<QrMatrix> qr = QrEncode(std::string(100, 'a'));
  ASSERT_TRUE(qr.ok());
  EXPECT_GT(qr->version, 1);
  EXPECT_EQ(qr->width, 17 + 4 * qr->version);
}

TEST(QrEncode, EncodesEveryByteAndTheLongestTextAllowed) {
  EXPECT_TRUE(QrEncode(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(QrEncode(std::string(kQrTextBytesMax, 'z')).ok());
}

TEST(QrEncode, RefusesEmptyTextAndOneBytePastTheLimit) {
  EXPECT_EQ(QrEncode("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(QrEncode(std::string(kQrTextBytesMax + 1, 'z')).status().code(),
            Code::kLimitExceeded);
  EXPECT_EQ(QrSvg("").status().code(), Code::kInvalidArgument);
}

TEST(QrSvg, IsAStandaloneSvgWithAQuietZoneAndEveryDarkModule) {
  Result<std::string> svg = QrSvg("PU-483920");
  ASSERT_TRUE(svg.ok()) << svg.status().message();
  const std::string& s = svg.value();
  EXPECT_EQ(s.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << s;
  EXPECT_NE(s.find("viewBox=\"0 0 29 29\""), std::string::npos);  // 21 modules + 2 × 4
  EXPECT_EQ(s.substr(s.size() - 6), "</svg>");
  // Every dark module is in one run "M<x> <y>h<n>v1h-<n>z"; their lengths add up to the count.
  Result<QrMatrix> qr = QrEncode("PU-483920");
  ASSERT_TRUE(qr.ok());
  int dark = 0;
  for (bool module : qr->dark) dark += module ? 1 : 0;
  int drawn = 0;
  for (size_t at = s.find('h'); at != std::string::npos; at = s.find('h', at + 1)) {
    if (std::isdigit(static_cast<unsigned char>(s[at + 1]))) drawn += std::atoi(s.c_str() + at + 1);
  }
  EXPECT_EQ(drawn, dark);
  EXPECT_NE(s.find("M4 4h7v1h-7z"), std::string::npos);  // the top of the top-left finder
}

}  // namespace
}  // namespace tandem::documents
