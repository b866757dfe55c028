// Precision escalation: run a check at `start_bits`, and while it is undecided for
// want of precision (enclosures too wide to decide a strict inequality), double the
// bits up to `max_bits`. An exact tie never becomes decided and ends at max_bits.
#pragma once

#include "claims/verdict.hpp"
#include "numerics/precision.hpp"

#include <chrono>

namespace iclcert::claims {

template <class Check>
ClaimReport with_escalation(long start_bits, long max_bits, Check&& check) {
  Json tried = Json::array();
  for (long bits = start_bits;; bits *= 2) {
    const auto start = std::chrono::steady_clock::now();
    WorkingPrecision scope(bits);
    ClaimReport r = check();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    tried.push_back({{"bits", bits}, {"verdict", to_string(r.verdict)}, {"seconds", seconds}});
    r.precision_bits = bits;
    if (r.verdict != Verdict::undecided || !r.more_precision_may_help || bits * 2 > max_bits) {
      r.evidence["precision_escalation"] = tried;
      return r;
    }
  }
}

}  // namespace iclcert::claims
