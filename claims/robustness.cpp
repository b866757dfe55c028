#include "claims/robustness.hpp"

namespace iclcert::claims {

BoxDimension parse_box(const std::string& text) {
  const auto eq = text.find('='), colon = text.find(':', eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || colon == std::string::npos)
    throw ClaimInputError("--box " + text + ": expected NAME=LO:HI, for example alpha=0.1:1");
  BoxDimension d;
  d.coefficient = text.substr(0, eq);
  if (d.coefficient != "beta" && d.coefficient != "gamma" && d.coefficient != "alpha" && d.coefficient != "alpha_label")
    throw ClaimInputError("--box " + text + ": the coefficient must be beta, gamma, alpha or alpha_label");
  try {
    d.lo = parse_rational(text.substr(eq + 1, colon - eq - 1));
    d.hi = parse_rational(text.substr(colon + 1));
  } catch (const std::invalid_argument& e) {
    throw ClaimInputError("--box " + text + ": " + e.what());
  }
  if (!(d.lo < d.hi)) throw ClaimInputError("--box " + text + ": expected LO < HI");
  return d;
}

}  // namespace iclcert::claims
