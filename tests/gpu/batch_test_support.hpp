// Shared fixtures of the gpu/ tests: models of every layer form and sampled prompts.
#pragma once

#include "gpu/batch_backend.hpp"
#include "gpu/batch_model.hpp"
#include "numerics/sampler.hpp"

#include <vector>

namespace iclcert::gpu::testing {

inline Rational q(const char* text) { return parse_rational(text); }

inline ReducedCoefficients<Rational> coeffs(const char* b, const char* g, const char* a, const char* al) {
  return {q(b), q(g), q(a), q(al)};
}

// Three layers: reduced, reduced with probe overrides, full (two heads).
inline Model mixed_model(Kernel kernel) {
  Model m;
  m.kernel = kernel;
  m.layers.push_back(ReducedLayer<Rational>{coeffs("1/4", "1", "1/2", "1/2"), std::nullopt});
  m.layers.push_back(ReducedLayer<Rational>{coeffs("1/3", "2", "0.4", "0.7"), coeffs("1", "0", "1", "1")});
  FullLayer<Rational> full;
  full.heads.push_back({{q("0.3"), q("-0.1"), q("0.05"), q("0.2"), q("1.5"), q("-0.2")},
                        {q("0.5"), q("0.01"), q("0"), q("0.1"), q("0.5"), q("0")}});
  full.heads.push_back({{q("-0.2"), q("0"), q("0.1"), q("0"), q("0.5"), q("0.1")},
                        {q("0.2"), q("0"), q("0"), q("0"), q("0.3"), q("0")}});
  m.layers.push_back(full);
  return m;
}

// A dense layer with non-equivariant matrices (entries k/7 - 1/2 patterns).
inline Model dense_model(Kernel kernel, int d, int C) {
  const int D = d + C;
  Model m;
  m.kernel = kernel;
  DenseLayer<Rational> dl;
  Matrix<Rational> S(D, D), V(D, D);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) {
      S(r, c) = Rational((r * 3 + c * 5) % 7, 7) - Rational(1, 2);
      V(r, c) = (Rational((r * 2 + c) % 5, 10) - Rational(1, 5)) / 2;
    }
  dl.heads.push_back({S.map([](const Rational& v) { return Rational(v / 2); }), V});
  m.layers.push_back(dl);
  m.layers.push_back(ReducedLayer<Rational>{coeffs("1/4", "1", "1/2", "1/2"), std::nullopt});
  m.layers.push_back(dl);
  return m;
}

inline std::vector<Prompt> sampled_prompts(int count, int d, int C, int N, std::uint64_t seed) {
  std::vector<Prompt> out;
  for (int k = 0; k < count; ++k) {
    SamplerOptions o;
    o.d = d;
    o.C = C;
    o.N = N;
    o.seed = seed + k;
    out.push_back(sample_prompt(o));
  }
  return out;
}

template <class T>
T round_to(const Rational& v) {
  if constexpr (sizeof(T) == sizeof(float)) return nearest_float(v);
  else return nearest_double(v);
}

template <class T>
PromptBlock<T> block_of(const std::vector<Prompt>& prompts) {
  PromptBlock<T> b;
  b.d = prompts[0].d;
  b.C = prompts[0].C;
  b.N = prompts[0].N;
  b.resize(static_cast<int>(prompts.size()));
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const Prompt& p = prompts[i];
    for (int r = 0; r < p.N; ++r) {
      for (int k = 0; k < p.d; ++k) b.X[(i * p.N + r) * p.d + k] = round_to<T>(p.X(r, k));
      b.labels[i * p.N + r] = p.labels[r];
    }
    for (int k = 0; k < p.d; ++k) b.probe[i * p.d + k] = round_to<T>(p.probe[k]);
    b.probe_label[i] = p.probe_label ? *p.probe_label : -1;
  }
  return b;
}

}  // namespace iclcert::gpu::testing
