// R1's box of coefficients: its dimensions, as parsed from `--box NAME=LO:HI`, and
// the model with the boxed coefficients replaced by values (points, intervals of a
// sub-box, or dual numbers seeded for the centred form). claims/robustness.hpp has
// the claim; what the box ranges over is in theory/claims.md (R1).
#pragma once

#include "claims/separation.hpp"
#include "numerics/scalar_rational.hpp"

namespace iclcert::claims {

struct BoxDimension {
  std::string coefficient;  // beta | gamma | alpha | alpha_label
  Rational lo, hi;
};

// "alpha=0.1:1" -> {alpha, 1/10, 1}; throws ClaimInputError.
BoxDimension parse_box(const std::string& text);

// Throws ClaimInputError when a coefficient is boxed twice. Two ranges for one name
// have no single meaning (intersection? union?), and `substitute` would keep only the
// last while the report listed both (issue 16): one range per coefficient.
void require_distinct_coefficients(const std::vector<BoxDimension>& box);

// What the box ranges over, said exactly for the report: the training rows'
// coefficient at every reduced layer (the probe row too where it has no coefficients
// of its own); a probe row's own coefficients are separate coefficients and keep the
// model's values (theory/claims.md, R1). Empty when no boxed layer has probe overrides.
std::string probe_override_scope(const Model& model, const std::vector<BoxDimension>& box);

// The model with the boxed coefficients replaced, in every reduced layer's training
// coefficients, by `values` (one per box dimension); probe overrides are left as they
// are. Throws ClaimInputError when a boxed model has a layer that is not reduced, or
// a coefficient is boxed twice.
template <class T, class Make>
BasicModel<T> substitute(const Model& m, const std::vector<BoxDimension>& box, Make&& value_of_dim) {
  require_distinct_coefficients(box);
  BasicModel<T> out = convert_model(m, [](const Rational& q) { return from_rational<T>(q); });
  for (std::size_t l = 0; l < out.layers.size(); ++l) {
    auto* r = std::get_if<ReducedLayer<T>>(&out.layers[l]);
    if (!r) {
      if (box.empty()) continue;
      throw ClaimInputError("--box applies to reduced layers; layer " + std::to_string(l + 1) + " is not reduced");
    }
    for (std::size_t k = 0; k < box.size(); ++k) {
      T v = value_of_dim(k);
      const std::string& c = box[k].coefficient;
      (c == "beta" ? r->train.beta : c == "gamma" ? r->train.gamma : c == "alpha" ? r->train.alpha : r->train.alpha_label) = v;
    }
  }
  return out;
}

}  // namespace iclcert::claims
