#include "tandem/inventory/geo.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tandem/base/check.h"

namespace tandem::inventory {
namespace {

// Malaysian postcodes by their first digits. Approximate, for the demo: each area is given the
// coordinates of one town in it (from public maps, rounded), so a distance is good to tens of
// kilometres in towns and worse in rural Sabah, Sarawak and Pahang. A three-digit entry refines
// the two-digit one it falls in; the longest matching prefix wins.
struct PostcodeArea {
  std::string_view prefix;
  std::string_view town;
  double lat;
  double lon;
};

constexpr PostcodeArea kMalaysia[] = {
    // Perlis
    {"01", "Kangar", 6.4414, 100.1986},
    {"02", "Kangar", 6.4414, 100.1986},
    // Kedah
    {"05", "Alor Setar", 6.1248, 100.3678},
    {"06", "Jitra", 6.2683, 100.4217},
    {"07", "Langkawi", 6.3500, 99.8000},
    {"08", "Sungai Petani", 5.6470, 100.4877},
    {"09", "Kulim", 5.3650, 100.5617},
    // Penang
    {"10", "George Town", 5.4141, 100.3288},
    {"11", "Gelugor", 5.3700, 100.3100},
    {"119", "Bayan Lepas", 5.2945, 100.2593},
    {"12", "Butterworth", 5.3991, 100.3638},
    {"13", "Butterworth", 5.3991, 100.3638},
    {"14", "Bukit Mertajam", 5.3631, 100.4667},
    // Kelantan
    {"15", "Kota Bharu", 6.1254, 102.2381},
    {"16", "Kota Bharu", 6.0900, 102.2600},
    {"17", "Pasir Mas", 6.0490, 102.1400},
    {"18", "Kuala Krai", 5.5306, 102.1990},
    // Terengganu
    {"20", "Kuala Terengganu", 5.3302, 103.1408},
    {"21", "Kuala Terengganu", 5.3000, 103.1000},
    {"22", "Jerteh", 5.7380, 102.4930},
    {"23", "Dungun", 4.7566, 103.4160},
    {"24", "Chukai", 4.2333, 103.4167},
    // Pahang
    {"25", "Kuantan", 3.8077, 103.3260},
    {"26", "Kuantan", 3.8300, 103.3000},
    {"266", "Pekan", 3.4922, 103.3897},
    {"27", "Raub", 3.7930, 101.8570},
    {"272", "Kuala Lipis", 4.1842, 102.0421},
    {"28", "Temerloh", 3.4500, 102.4167},
    {"39", "Tanah Rata", 4.4700, 101.3800},
    {"49", "Fraser's Hill", 3.7167, 101.7333},
    {"69", "Genting Highlands", 3.4236, 101.7933},
    // Perak
    {"30", "Ipoh", 4.5975, 101.0901},
    {"31", "Ipoh", 4.6000, 101.1000},
    {"32", "Sitiawan", 4.2167, 100.7000},
    {"33", "Kuala Kangsar", 4.7667, 100.9333},
    {"34", "Taiping", 4.8500, 100.7333},
    {"35", "Tapah", 4.1978, 101.2616},
    {"359", "Tanjung Malim", 3.6833, 101.5167},
    {"36", "Teluk Intan", 4.0259, 101.0213},
    // Selangor
    {"40", "Shah Alam", 3.0733, 101.5185},
    {"41", "Klang", 3.0449, 101.4456},
    {"42", "Port Klang", 3.0000, 101.4000},
    {"43", "Kajang", 2.9927, 101.7909},
    {"436", "Bandar Baru Bangi", 2.9617, 101.7700},
    {"439", "Sepang", 2.6900, 101.7500},
    {"44", "Kuala Kubu Bharu", 3.5667, 101.6500},
    {"45", "Kuala Selangor", 3.3400, 101.2500},
    {"46", "Petaling Jaya", 3.1073, 101.6067},
    {"47", "Petaling Jaya", 3.1073, 101.6067},
    {"471", "Puchong", 3.0240, 101.6170},
    {"475", "Subang Jaya", 3.0497, 101.5851},
    {"48", "Rawang", 3.3213, 101.5767},
    {"63", "Cyberjaya", 2.9213, 101.6559},
    {"64", "Sepang (KLIA)", 2.7456, 101.7072},
    {"68", "Ampang", 3.1500, 101.7667},
    {"681", "Batu Caves", 3.2379, 101.6840},
    // Kuala Lumpur and Putrajaya
    {"50", "Kuala Lumpur", 3.1478, 101.6953},
    {"51", "Kuala Lumpur (Sentul)", 3.1850, 101.6900},
    {"52", "Kuala Lumpur (Kepong)", 3.2100, 101.6350},
    {"53", "Kuala Lumpur (Setapak)", 3.1950, 101.7300},
    {"54", "Kuala Lumpur (Kampung Baru)", 3.1650, 101.7050},
    {"55", "Kuala Lumpur (Pudu)", 3.1300, 101.7200},
    {"56", "Kuala Lumpur (Cheras)", 3.0900, 101.7400},
    {"57", "Kuala Lumpur (Bukit Jalil)", 3.0650, 101.6900},
    {"58", "Kuala Lumpur (Old Klang Road)", 3.0950, 101.6750},
    {"59", "Kuala Lumpur (Bangsar)", 3.1300, 101.6700},
    {"60", "Kuala Lumpur (TTDI)", 3.1450, 101.6300},
    {"62", "Putrajaya", 2.9264, 101.6964},
    // Negeri Sembilan
    {"70", "Seremban", 2.7258, 101.9424},
    {"71", "Port Dickson", 2.5228, 101.7959},
    {"718", "Nilai", 2.8167, 101.8000},
    {"72", "Kuala Pilah", 2.7389, 102.2487},
    {"73", "Tampin", 2.4701, 102.2302},
    // Melaka
    {"75", "Melaka", 2.1896, 102.2501},
    {"76", "Ayer Keroh", 2.2700, 102.2900},
    {"77", "Jasin", 2.3096, 102.4300},
    {"78", "Alor Gajah", 2.3800, 102.2089},
    // Johor
    {"79", "Iskandar Puteri", 1.4250, 103.6400},
    {"80", "Johor Bahru", 1.4927, 103.7414},
    {"81", "Johor Bahru", 1.5000, 103.7000},
    {"810", "Kulai", 1.6561, 103.6032},
    {"813", "Skudai", 1.5330, 103.6570},
    {"819", "Kota Tinggi", 1.7381, 103.8999},
    {"82", "Pontian", 1.4869, 103.3897},
    {"83", "Batu Pahat", 1.8548, 102.9325},
    {"84", "Muar", 2.0442, 102.5689},
    {"85", "Segamat", 2.5148, 102.8158},
    {"86", "Kluang", 2.0251, 103.3328},
    // Labuan
    {"87", "Labuan", 5.2831, 115.2308},
    // Sabah
    {"88", "Kota Kinabalu", 5.9804, 116.0735},
    {"89", "Penampang", 5.9200, 116.1100},
    {"90", "Sandakan", 5.8402, 118.1179},
    {"91", "Tawau", 4.2448, 117.8912},
    {"911", "Lahad Datu", 5.0268, 118.3270},
    {"913", "Semporna", 4.4800, 118.6100},
    // Sarawak
    {"93", "Kuching", 1.5535, 110.3593},
    {"94", "Kota Samarahan", 1.4600, 110.4900},
    {"95", "Sri Aman", 1.2372, 111.4623},
    {"96", "Sibu", 2.2870, 111.8305},
    {"97", "Bintulu", 3.1667, 113.0333},
    {"98", "Miri", 4.3995, 113.9914},
    {"987", "Limbang", 4.7500, 115.0000},
};

constexpr double kEarthMeanRadiusKm = 6371.0088;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsMalaysia(std::string_view country) {
  country = Trim(country);
  return country.size() == 2 && (country[0] == 'M' || country[0] == 'm') &&
         (country[1] == 'Y' || country[1] == 'y');
}

const PostcodeArea* Find(std::string_view country, std::string_view postcode) {
  if (!IsMalaysia(country)) return nullptr;
  postcode = Trim(postcode);
  if (postcode.size() != 5) return nullptr;
  for (char c : postcode) {
    if (c < '0' || c > '9') return nullptr;
  }
  const PostcodeArea* best = nullptr;
  for (const PostcodeArea& area : kMalaysia) {
    if (postcode.starts_with(area.prefix) &&
        (best == nullptr || area.prefix.size() > best->prefix.size())) {
      best = &area;
    }
  }
  return best;
}

double Radians(double degrees) { return degrees * std::numbers::pi / 180.0; }

}  // namespace

std::optional<LatLon> PostcodeCoordinates(std::string_view country, std::string_view postcode) {
  const PostcodeArea* area = Find(country, postcode);
  if (area == nullptr) return std::nullopt;
  return LatLon{area->lat, area->lon};
}

std::string_view PostcodeTown(std::string_view country, std::string_view postcode) {
  const PostcodeArea* area = Find(country, postcode);
  return area == nullptr ? std::string_view() : area->town;
}

double DistanceKm(LatLon a, LatLon b) {
  TANDEM_DCHECK(std::abs(a.lat) <= 90 && std::abs(b.lat) <= 90);
  TANDEM_DCHECK(std::abs(a.lon) <= 180 && std::abs(b.lon) <= 180);
  double dlat = Radians(b.lat - a.lat);
  double dlon = Radians(b.lon - a.lon);
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(Radians(a.lat)) *
                                                           std::cos(Radians(b.lat)) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  // Rounding can push h a hair past 1 for antipodal points; asin would then be NaN.
  h = std::min(1.0, std::max(0.0, h));
  return 2 * kEarthMeanRadiusKm * std::asin(std::sqrt(h));
}

}  // namespace tandem::inventory
