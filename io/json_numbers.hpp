// How iclcert's output files write numbers, so that pandas (and any JSON reader)
// loads them as they are (docs/formats.md, "Numbers" and "Reading with pandas"):
//
//  - a statistic (an accuracy, a mean, a time in seconds, a ratio of counts, a
//    float error) is a JSON number: a double written with the shortest digits
//    that read back as the same double (nlohmann's dump), or an integer;
//  - an exact value (a rational, an enclosure ["lo", "hi"], a coefficient) stays
//    a string, read exactly; where a reader plotting it needs a number, the
//    field NAME has a companion NAME_float of the same shape holding the nearest
//    doubles (an enclosure: the double nearest its midpoint). A companion is for
//    reading and plotting only: it certifies nothing.
//
// JSON has no infinity: a statistic or companion that is +inf or -inf is the
// string "inf" or "-inf" (pandas' astype(float) and to_numeric read them), and
// one that is undefined (NaN) is null.
#pragma once

#include "io/json_reader.hpp"

#include <cmath>

namespace iclcert {

inline Json statistic_json(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// A fraction of counts (an accuracy, an agreement): null when there is nothing
// to count (`of` == 0).
inline Json fraction_json(long count, long of) {
  return of > 0 ? statistic_json(static_cast<double>(count) / static_cast<double>(of)) : Json(nullptr);
}

}  // namespace iclcert
