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

void require_distinct_coefficients(const std::vector<BoxDimension>& box) {
  for (std::size_t k = 0; k < box.size(); ++k)
    for (std::size_t j = 0; j < k; ++j)
      if (box[j].coefficient == box[k].coefficient)
        throw ClaimInputError("--box " + box[k].coefficient + " is given twice (" + to_string(box[j].lo) + ":" +
                              to_string(box[j].hi) + " and " + to_string(box[k].lo) + ":" + to_string(box[k].hi) +
                              "): give each coefficient one range");
}

std::string probe_override_scope(const Model& model, const std::vector<BoxDimension>& box) {
  if (box.empty()) return "";
  std::string layers;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto* r = std::get_if<ReducedLayer<Rational>>(&model.layers[l]);
    if (r && r->probe) layers += (layers.empty() ? "" : ", ") + std::to_string(l + 1);
  }
  if (layers.empty()) return "";
  return "box scope: the boxed coefficients are the training rows' at every layer; the probe row's own "
         "coefficients (layer" + std::string(layers.find(',') == std::string::npos ? " " : "s ") + layers +
         ") are other coefficients and keep the model's values" +
         (model.probe_is_key ? std::string(" (the probe is a key, so the claim depends on them)")
                             : std::string("; the probe is not a key, so the training rows, and the claim, do not "
                                           "depend on them: the verdict holds for any probe coefficients"));
}

}  // namespace iclcert::claims
