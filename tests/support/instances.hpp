// Small builders shared by the tests: models from coefficient lists, seeded prompts.
#pragma once

#include "numerics/model.hpp"
#include "numerics/sampler.hpp"

#include <cstdlib>
#include <string>

namespace iclcert::testing {

inline Rational q(const char* text) { return parse_rational(text); }

inline ReducedLayer<Rational> reduced(const char* beta, const char* gamma, const char* alpha, const char* alpha_label) {
  return {{q(beta), q(gamma), q(alpha), q(alpha_label)}, std::nullopt};
}

inline Model model_of(Kernel kernel, std::vector<Layer<Rational>> layers) {
  Model m;
  m.kernel = kernel;
  m.layers = std::move(layers);
  return m;
}

// The full-form layer equal to a reduced layer without probe overrides.
inline FullLayer<Rational> full_from_reduced(const ReducedCoefficients<Rational>& c) {
  Rational z = 0;
  return {{{{c.beta, z, z, z, c.gamma, z}, {c.alpha, z, z, z, c.alpha_label, z}}}};
}

inline DenseLayer<Rational> dense_from_full(const FullLayer<Rational>& f, int d, int C) {
  DenseLayer<Rational> out;
  for (const auto& h : f.heads) out.heads.push_back({equivariant_matrix(h.score, d, C), equivariant_matrix(h.value, d, C)});
  return out;
}

inline Prompt sampled(int d, int C, int N, std::uint64_t seed, bool balanced = false) {
  SamplerOptions o;
  o.d = d;
  o.C = C;
  o.N = N;
  o.seed = seed;
  o.balanced = balanced;
  return sample_prompt(o);
}

// ICLCERT_TEST_SCALE multiplies case counts for long local runs (default 1).
inline int scaled(int cases) {
  const char* s = std::getenv("ICLCERT_TEST_SCALE");
  const int k = s ? std::atoi(s) : 1;
  return cases * (k > 0 ? k : 1);
}

// A dyadic value in [-range, range] drawn from the project's RNG (a double, hence exact).
inline Rational draw(Xoshiro256& rng, double lo, double hi) {
  return rational_from_double(lo + (hi - lo) * rng.uniform());
}

}  // namespace iclcert::testing
