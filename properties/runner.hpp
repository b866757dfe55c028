// Runs a property over generated cases with RapidCheck under explicit parameters
// (seed, number of cases, shrinking) through rc::detail::checkProperty, so that
// neither RC_PARAMS nor RapidCheck's global configuration is involved, and hands
// back the shrunk counterexample as a FuzzCase.
//
// The counterexample: while shrinking, RapidCheck re-runs the property on
// candidates and keeps the first that still fails; the last failing run is
// therefore the minimal case, and we record it from inside the property.
#pragma once

#include "properties/fuzz_case.hpp"

#include <rapidcheck.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace iclcert::properties {

struct CaseVerdict {
  enum class Kind { held, failed, discarded } kind = Kind::held;
  std::string detail;  // why it failed or was discarded
  static CaseVerdict held() { return {}; }
  static CaseVerdict failed(std::string why) { return {Kind::failed, std::move(why)}; }
  static CaseVerdict discarded(std::string why) { return {Kind::discarded, std::move(why)}; }
};

using CaseCheck = std::function<CaseVerdict(const FuzzCase&)>;

struct FuzzParams {
  std::uint64_t seed = 1;
  int cases = 200;
  bool shrink = true;
};

struct FuzzOutcome {
  bool held = true;
  bool gave_up = false;   // too many discarded cases
  int passed = 0;         // cases that held
  int discarded = 0;
  int shrink_steps = 0;   // accepted shrinks
  double seconds = 0;
  std::optional<FuzzCase> counterexample;
  std::string detail;     // the failure (or giving up) in words
};

FuzzOutcome run_cases(const std::string& name, const rc::Gen<FuzzCase>& gen, const CaseCheck& check,
                      const FuzzParams& params);

// base * ICLCERT_TEST_SCALE (environment; default 1), at least 1.
int scaled_cases(int base);

}  // namespace iclcert::properties
