// Where an address is, roughly: coordinates for a postcode of the demo country (Malaysia) from a
// small table compiled into the binary, and the great-circle distance between two points. Sourcing
// uses them to rank locations by distance to the delivery address.
//
// The table is hand-made and approximate (one town per postcode area, for the demo); it is not a
// geocoder. Pure functions over constant data; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace tandem::inventory {

struct LatLon {
  double lat = 0;  // degrees, -90..90
  double lon = 0;  // degrees, -180..180
  bool operator==(const LatLon&) const = default;
};

// The approximate coordinates of the town that serves `postcode` in `country` (ISO 3166-1
// alpha-2, any case). Only "MY" is known: a postcode is 5 ASCII digits (surrounding spaces are
// ignored). nullopt for another country, a malformed postcode or a range the table lacks.
std::optional<LatLon> PostcodeCoordinates(std::string_view country, std::string_view postcode);

// The place the table names for that postcode (e.g. "George Town"), for explanations; empty when
// PostcodeCoordinates is nullopt.
std::string_view PostcodeTown(std::string_view country, std::string_view postcode);

// Great-circle (haversine) distance in kilometres on a sphere of the Earth's mean radius: a
// straight line, not a road distance. Precondition: both points in range.
double DistanceKm(LatLon a, LatLon b);

}  // namespace tandem::inventory
