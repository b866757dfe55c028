// C1 under mpiexec: the Monte Carlo samples (claims/alignment.hpp, the seam
// AlignmentSampling) computed across the ranks and reduced in index order on every
// rank, so that the bounds carry the same roundings, and the verdict the same
// bytes, as on one process. Each sample travels as its two endpoints in exact
// rational form (they are the endpoints of a ball or interval: dyadic, exact).
// The samples go in rounds, so that no rank holds more than a round of them.
#pragma once

#include "claims/alignment.hpp"
#include "api/distribute.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace iclcert::api {

// An empty sampling (check_alignment then computes the samples itself) on one process.
// `progress(done, total)`, when given, is called on rank 0 after each round.
inline claims::AlignmentSampling distributed_alignment_sampling(void (*progress)(int, int)) {
  if (ranks() == 1) return {};
  return [progress](int samples, const std::function<claims::AlignmentSample(int)>& one,
                    const std::function<void(const claims::AlignmentSample&)>& take) {
    // A round: enough samples for the hand-out to balance, few enough to hold.
    const int round = 20 * std::max(4, ranks());  // a multiple of 20: report_progress prints every 20
    for (int first = 0; first < samples; first += round) {
      const int count = std::min(round, samples - first);
      // On the calling thread (threads = 1): the working precision is thread-local.
      const std::vector<std::string> packed = evaluate_indexed(
          count, 1,
          [&](long i) {
            const claims::AlignmentSample a = one(first + static_cast<int>(i));
            return a.lower.str() + ' ' + a.upper.str() + ' ' + std::to_string(static_cast<int>(a.margin));
          },
          nullptr, Deliver::to_every_rank);
      for (const std::string& text : packed) {
        const std::size_t s1 = text.find(' '), s2 = text.find(' ', s1 + 1);
        claims::AlignmentSample a;
        a.lower = Rational(text.substr(0, s1));
        a.upper = Rational(text.substr(s1 + 1, s2 - s1 - 1));
        a.margin = static_cast<claims::AlignmentSample::Margin>(std::stoi(text.substr(s2 + 1)));
        take(a);
      }
      if (progress && is_root()) progress(first + count, samples);
    }
  };
}

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
