// Three-valued verdicts and the report every claim check returns.
//
// `proved` is certified (outward-rounded arithmetic, exact rationals, or an exact
// structural identity); `refuted` carries a counterexample whose failure is
// certified the same way; everything else is `undecided`, never silently false.
#pragma once

#include "io/json_reader.hpp"

#include <string>
#include <vector>

namespace iclcert::claims {

using iclcert::to_string;  // the Rational one, beside the Verdict one below

enum class Verdict { proved, refuted, undecided };

inline const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::proved: return "proved";
    case Verdict::refuted: return "refuted";
    case Verdict::undecided: return "undecided";
  }
  return "?";
}

// docs/formats.md: 0 proved, 1 refuted, 3 undecided.
inline int exit_status(Verdict v) { return v == Verdict::proved ? 0 : (v == Verdict::refuted ? 1 : 3); }

struct ClaimReport {
  std::string claim;
  Verdict verdict = Verdict::undecided;
  long precision_bits = 0;  // 0: exact arithmetic
  // True when an undecided verdict came from enclosure width, so that more bits may
  // decide it; false when more precision cannot help (an exact tie, no applicable layer).
  bool more_precision_may_help = false;
  Json evidence = Json::object();
  Json counterexample = nullptr;
  std::vector<std::string> lines;  // the human-readable account, in order
};

// Raised when a claim's hypotheses do not hold for the given input, or the input
// does not fit the claim (exit status 2, with the reason).
class ClaimInputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace iclcert::claims
