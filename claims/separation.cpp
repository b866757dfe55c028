#include "claims/separation.hpp"

namespace iclcert::claims {

void require_a1_hypotheses(const Prompt& p, const Model& m) {
  auto fail = [](const std::string& why) {
    throw ClaimInputError("A1's hypotheses do not hold: " + why +
                          " (A2 checks the same growth for any coefficients: --claim A2)");
  };
  if (m.kernel != Kernel::softmax) fail("the kernel is linear (A1 is about the softmax kernel)");
  if (m.probe_is_key) fail("the probe is a key, so it acts on the training rows");
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const auto* r = std::get_if<ReducedLayer<Rational>>(&m.layers[l]);
    const std::string at = "layer " + std::to_string(l + 1) + " ";
    if (!r) fail(at + "is not a reduced layer");
    if (r->train.beta != 0) fail(at + "has beta = " + to_string(r->train.beta) + ", not 0");
    if (r->train.gamma <= 0) fail(at + "has gamma = " + to_string(r->train.gamma) + ", not > 0");
    if (r->train.alpha <= 0) fail(at + "has alpha = " + to_string(r->train.alpha) + ", not > 0");
    if (r->train.alpha_label < 0) fail(at + "has alpha_label = " + to_string(r->train.alpha_label) + ", not >= 0");
  }
  const auto sizes = p.class_sizes();
  for (int c = 0; c < p.C; ++c)
    if (sizes[c] * p.C != p.N)
      fail("the classes are not balanced (class " + std::to_string(c) + " has " + std::to_string(sizes[c]) +
           " of " + std::to_string(p.N) + " points; sample with --balanced)");
}

}  // namespace iclcert::claims
