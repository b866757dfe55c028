// The catalogue of properties that `iclcert fuzz` runs and the test suites check:
// each has a short id, a sentence, the arithmetics it runs in, a generator of
// cases and a check of one case. See theory/equivariance.md for the statements,
// the methods and what each comparison trusts.
#pragma once

#include "numerics/rational.hpp"
#include "numerics/scalar_rational.hpp"
#include "numerics/state.hpp"
#include "properties/equivariance.hpp"
#include "properties/generators.hpp"
#include "properties/runner.hpp"

#include <functional>
#include <string>
#include <vector>

namespace iclcert::properties {

struct PropertyInfo {
  std::string id, sentence;
  std::vector<std::string> ariths;  // accepted --arith values; "mpfr:P" / "interval:P" accept any P
  std::string default_arith;
  std::function<rc::Gen<FuzzCase>(const std::string& arith)> generate;
  std::function<CaseVerdict(const FuzzCase&, const std::string& arith)> check;
};

const std::vector<PropertyInfo>& catalogue();

// Throws std::invalid_argument naming the known ids.
const PropertyInfo& find_property(const std::string& id);

// Throws std::invalid_argument when `arith` is not one the property runs in.
void require_arith(const PropertyInfo& p, const std::string& arith);

// A case with sizes and a model drawn for them; g of the given kind.
rc::Gen<FuzzCase> fuzz_cases(const PromptSpec& ps, const ModelSpec& ms, PermutationKind kind);

// E1 pieces, public so that tests can check a planted-bug layer with them.
rc::Gen<FuzzCase> e1_cases(PermutationKind kind, const std::string& arith);
CaseVerdict e1_check_exact(const FuzzCase& c, const LayerFunction<Rational>& layer);

// Runs catalogue property `p` in `arith`.
FuzzOutcome run_property(const PropertyInfo& p, const std::string& arith, const FuzzParams& params);

}  // namespace iclcert::properties
