#include "tandem/inventory/geo.h"

#include <gtest/gtest.h>

#include <string>

namespace tandem::inventory {
namespace {

LatLon At(std::string_view postcode) {
  std::optional<LatLon> p = PostcodeCoordinates("MY", postcode);
  EXPECT_TRUE(p.has_value()) << postcode;
  return p.value_or(LatLon{});
}

double Km(std::string_view from, std::string_view to) { return DistanceKm(At(from), At(to)); }

TEST(PostcodeCoordinates, FindsTheTownsOfTheMainAreas) {
  EXPECT_EQ(PostcodeTown("MY", "50450"), "Kuala Lumpur");
  EXPECT_EQ(PostcodeTown("MY", "10200"), "George Town");
  EXPECT_EQ(PostcodeTown("MY", "40100"), "Shah Alam");
  EXPECT_EQ(PostcodeTown("MY", "80000"), "Johor Bahru");
  EXPECT_EQ(PostcodeTown("MY", "93050"), "Kuching");
  EXPECT_EQ(PostcodeTown("MY", "88000"), "Kota Kinabalu");
  EXPECT_EQ(PostcodeTown("MY", "30450"), "Ipoh");
  EXPECT_EQ(PostcodeTown("MY", "75000"), "Melaka");
  EXPECT_EQ(PostcodeTown("MY", "20000"), "Kuala Terengganu");
  EXPECT_EQ(PostcodeTown("MY", "15000"), "Kota Bharu");
  EXPECT_EQ(PostcodeTown("MY", "25000"), "Kuantan");
  EXPECT_EQ(PostcodeTown("MY", "70000"), "Seremban");
  EXPECT_EQ(PostcodeTown("MY", "05000"), "Alor Setar");
  EXPECT_EQ(PostcodeTown("MY", "01000"), "Kangar");
  EXPECT_EQ(PostcodeTown("MY", "47301"), "Petaling Jaya");
  EXPECT_EQ(PostcodeTown("MY", "43000"), "Kajang");
  EXPECT_EQ(PostcodeTown("MY", "62000"), "Putrajaya");
  EXPECT_EQ(PostcodeTown("MY", "63000"), "Cyberjaya");
  EXPECT_EQ(PostcodeTown("MY", "41000"), "Klang");
  EXPECT_EQ(PostcodeTown("MY", "68000"), "Ampang");
}

TEST(PostcodeCoordinates, TheLongestPrefixWins) {
  EXPECT_EQ(PostcodeTown("MY", "11900"), "Bayan Lepas");  // not the "11" area
  EXPECT_EQ(PostcodeTown("MY", "11700"), "Gelugor");
  EXPECT_EQ(PostcodeTown("MY", "47500"), "Subang Jaya");
  EXPECT_EQ(PostcodeTown("MY", "43650"), "Bandar Baru Bangi");
  EXPECT_NE(*PostcodeCoordinates("MY", "11900"), *PostcodeCoordinates("MY", "11700"));
}

TEST(PostcodeCoordinates, AcceptsAnyCaseOfTheCountryAndSurroundingSpaces) {
  EXPECT_EQ(PostcodeCoordinates("my", "50450"), PostcodeCoordinates("MY", "50450"));
  EXPECT_EQ(PostcodeCoordinates("My", " 50450 "), PostcodeCoordinates("MY", "50450"));
}

TEST(PostcodeCoordinates, IsEmptyForUnknownCountriesMalformedPostcodesAndGaps) {
  EXPECT_FALSE(PostcodeCoordinates("SG", "50450"));
  EXPECT_FALSE(PostcodeCoordinates("", "50450"));
  EXPECT_FALSE(PostcodeCoordinates("Malaysia", "50450"));
  EXPECT_FALSE(PostcodeCoordinates("MY", ""));
  EXPECT_FALSE(PostcodeCoordinates("MY", "5045"));
  EXPECT_FALSE(PostcodeCoordinates("MY", "504500"));
  EXPECT_FALSE(PostcodeCoordinates("MY", "50-45"));
  EXPECT_FALSE(PostcodeCoordinates("MY", "5O450"));  // a letter O
  EXPECT_FALSE(PostcodeCoordinates("MY", "00100"));  // no area starts with 00, 61 or 99
  EXPECT_FALSE(PostcodeCoordinates("MY", "61000"));
  EXPECT_FALSE(PostcodeCoordinates("MY", "99999"));
  EXPECT_TRUE(PostcodeTown("MY", "99999").empty());
}

TEST(PostcodeCoordinates, EveryKnownPostcodeLiesInMalaysia) {
  // A typo in the table (a swapped latitude and longitude, a dropped digit) lands outside.
  int known = 0;
  for (int n = 0; n <= 99999; ++n) {
    std::string postcode = std::to_string(n);
    postcode.insert(0, 5 - postcode.size(), '0');
    std::optional<LatLon> p = PostcodeCoordinates("MY", postcode);
    if (!p) continue;
    ++known;
    ASSERT_TRUE(p->lat > 0.8 && p->lat < 7.5 && p->lon > 99.5 && p->lon < 119.5) << postcode;
  }
  EXPECT_GT(known, 70'000);  // most of 01000-98999
}

TEST(DistanceKm, MatchesKnownStraightLineDistances) {
  EXPECT_GT(Km("50450", "10200"), 290);  // Kuala Lumpur - George Town: about 300 km
  EXPECT_LT(Km("50450", "10200"), 330);
  EXPECT_GT(Km("50450", "80000"), 280);  // Kuala Lumpur - Johor Bahru: about 290 km
  EXPECT_LT(Km("50450", "80000"), 320);
  EXPECT_GT(Km("93050", "88000"), 750);  // Kuching - Kota Kinabalu: about 800 km
  EXPECT_LT(Km("93050", "88000"), 850);
  EXPECT_GT(Km("50450", "40100"), 15);  // Kuala Lumpur - Shah Alam: about 20 km
  EXPECT_LT(Km("50450", "40100"), 25);
  EXPECT_LT(Km("50450", "62000"), 30);  // Putrajaya is near, Kota Bharu far
  EXPECT_GT(Km("50450", "15000"), 320);
}

TEST(DistanceKm, IsSymmetricAndZeroToItself) {
  EXPECT_DOUBLE_EQ(Km("50450", "10200"), Km("10200", "50450"));
  EXPECT_DOUBLE_EQ(Km("50450", "50450"), 0);
}

TEST(DistanceKm, HandlesThePolesTheAntimeridianAndAntipodes) {
  EXPECT_NEAR(DistanceKm({0, 0}, {0, 1}), 111.2, 0.1);  // a degree along the equator
  EXPECT_NEAR(DistanceKm({0, 179.5}, {0, -179.5}), 111.2, 0.1);
  EXPECT_NEAR(DistanceKm({90, 0}, {-90, 0}), 20015.1, 0.5);
  EXPECT_NEAR(DistanceKm({3.1478, 101.6953}, {-3.1478, -78.3047}), 20015.1, 0.5);
}

}  // namespace
}  // namespace tandem::inventory
