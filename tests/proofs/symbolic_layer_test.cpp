// The symbolic one-layer map (proofs/symbolic_layer.hpp) is a second copy of the
// math of numerics/layer.hpp: evaluated at rational points it must equal the
// core exactly (linear kernel, apply_reduced<Rational>), and in the E = exp(gamma)
// form it must match the core's softmax in MPFR at 256 bits. Fixed seeds.
#include "numerics/layer.hpp"
#include "numerics/metrics.hpp"
#include "numerics/mpfr_real.hpp"
#include "numerics/sampler.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "proofs/symbolic_layer.hpp"

#include <gtest/gtest.h>

#include <mpfr.h>

namespace iclcert::proofs {
namespace {

// A small random rational: k / 8 with k in [-16, 16].
Rational draw(Xoshiro256& rng) { return Rational(static_cast<long>(rng.next() % 33) - 16, 8); }

// Symbols of a term, collected once, and their values.
struct Point {
  std::vector<z3::expr> symbols;
  std::vector<Rational> values;
  void set(const z3::expr& s, const Rational& v) {
    symbols.push_back(s);
    values.push_back(v);
  }
};

TEST(SymbolicLayer, LinearKernelEqualsTheCoreExactly) {
  for (bool probe_is_key : {false, true})
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed) + (probe_is_key ? ", probe is a key" : ""));
      Xoshiro256 rng(seed);
      z3::context ctx;
      const int N = 3, d = 2, C = 2;
      const SymbolicState s = symbolic_general_state(ctx, N, d, C);
      State<Rational> core{d, C, Matrix<Rational>(N + 1, d + C, Rational(0))};
      Point point;
      for (int j = 0; j <= N; ++j)
        for (int k = 0; k < d + C; ++k) {
          core.Z(j, k) = draw(rng);
          point.set(s.at(j, k).num, core.Z(j, k));
        }
      const char* names[] = {"beta", "gamma", "alpha", "alpha_label"};
      Rational vals[4];
      for (int c = 0; c < 4; ++c) {
        vals[c] = draw(rng);
        point.set(ctx.real_const(names[c]), vals[c]);
      }
      const SymbolicCoefficients coeffs{RatFn::of(point.symbols[point.symbols.size() - 4]),
                                        RatFn::of(point.symbols[point.symbols.size() - 3]),
                                        RatFn::of(point.symbols[point.symbols.size() - 2]),
                                        RatFn::of(point.symbols[point.symbols.size() - 1])};
      const SymbolicState next = apply_symbolic_layer(s, coeffs, ExpForm::linear(), probe_is_key);
      const ReducedLayer<Rational> layer{{vals[0], vals[1], vals[2], vals[3]}, std::nullopt};
      const State<Rational> expected = apply_reduced(core, layer, {Kernel::linear, probe_is_key}).next;
      for (int j = 0; j <= N; ++j)
        for (int k = 0; k < d + C; ++k)
          EXPECT_EQ(evaluate(next.at(j, k), point.symbols, point.values), expected.Z(j, k)) << "row " << j << " col " << k;
    }
}

Rational exact_value(const MpfrReal& x) {
  Rational q;
  mpfr_get_q(q.backend().data(), x.get());
  return q;
}

TEST(SymbolicLayer, ExpFormMatchesTheCoreSoftmaxInMpfr) {
  MpfrPrecision scope(256);
  const Rational gamma(3, 4), alpha(1, 2), alpha_label(2, 3);
  const MpfrReal E_mpfr = ScalarTraits<MpfrReal>::exp(from_rational<MpfrReal>(gamma));
  const Rational E = exact_value(E_mpfr);  // exp(3/4) to 256 bits, as an exact rational
  for (std::uint64_t seed = 11; seed <= 13; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Prompt p = sample_prompt({2, 3, 5, seed, false, 0, true});
    z3::context ctx;
    const SymbolicState s = symbolic_initial_state(ctx, p.d, p.C, p.labels);
    Point point;
    for (int i = 0; i < p.N; ++i)
      for (int k = 0; k < p.d; ++k) point.set(s.at(i, k).num, p.X(i, k));
    for (int k = 0; k < p.d; ++k) point.set(s.at(p.N, k).num, p.probe[k]);
    const z3::expr Es = ctx.real_const("E");
    point.set(Es, E);
    const SymbolicCoefficients coeffs{RatFn::constant(ctx, 0), RatFn::constant(ctx, gamma), RatFn::constant(ctx, alpha),
                                      RatFn::constant(ctx, alpha_label)};
    const SymbolicState next = apply_symbolic_layer(s, coeffs, ExpForm::label_power(Es));
    const State<MpfrReal> in = initial_state<MpfrReal>(p, ProbeLabelInit::zero);
    const ReducedLayer<MpfrReal> layer{{from_int<MpfrReal>(0), from_rational<MpfrReal>(gamma),
                                        from_rational<MpfrReal>(alpha), from_rational<MpfrReal>(alpha_label)},
                                       std::nullopt};
    const State<MpfrReal> expected = apply_reduced(in, layer, {Kernel::softmax, false}).next;
    for (int j = 0; j <= p.N; ++j)
      for (int k = 0; k < p.d + p.C; ++k) {
        const Rational diff = evaluate(next.at(j, k), point.symbols, point.values) - exact_value(expected.Z(j, k));
        EXPECT_LT(abs(diff), Rational(1, 1) / Rational(boost::multiprecision::pow(boost::multiprecision::mpz_int(2), 240)))
            << "row " << j << " col " << k;
      }
    // The class-aggregated update gives the same class means as the point-level map.
    const SymbolicScatter after = symbolic_scatter(next, p.labels), before = symbolic_scatter(s, p.labels);
    const std::vector<int> n = p.class_sizes();
    for (int k = 0; k < p.d; ++k) {
      std::vector<RatFn> nn, mu;
      for (int c = 0; c < p.C; ++c) {
        nn.push_back(RatFn::constant(ctx, n[c]));
        mu.push_back(before.class_means[c * p.d + k]);
      }
      const std::vector<RatFn> agg = class_mean_update(nn, mu, RatFn::constant(ctx, alpha), RatFn::of(Es));
      for (int c = 0; c < p.C; ++c)
        if (n[c] > 0) {
          EXPECT_EQ(evaluate(agg[c], point.symbols, point.values),
                    evaluate(after.class_means[c * p.d + k], point.symbols, point.values));
        }
    }
  }
}

TEST(SymbolicLayer, ScatterGivesTheCoreFisherRatio) {
  const Prompt p = sample_prompt({2, 3, 6, 21, false, 0, true});
  z3::context ctx;
  const SymbolicState s = symbolic_initial_state(ctx, p.d, p.C, p.labels);
  Point point;
  for (int i = 0; i < p.N; ++i)
    for (int k = 0; k < p.d; ++k) point.set(s.at(i, k).num, p.X(i, k));
  const SymbolicScatter sc = symbolic_scatter(s, p.labels);
  const auto f = fisher_ratio(initial_state<Rational>(p, ProbeLabelInit::zero), p.labels, p.C);
  ASSERT_EQ(f.kind, Ratio<Rational>::Kind::finite);
  EXPECT_EQ(evaluate(sc.between, point.symbols, point.values) / evaluate(sc.within, point.symbols, point.values), f.value);
}

TEST(SymbolicLayer, EFormRefusesWhatItCannotEncode) {
  z3::context ctx;
  const SymbolicState s = symbolic_initial_state(ctx, 1, 2, {0, 1});
  const SymbolicCoefficients with_beta{RatFn::constant(ctx, 1), RatFn::constant(ctx, 1), RatFn::constant(ctx, 1),
                                       RatFn::constant(ctx, 1)};
  EXPECT_THROW(apply_symbolic_layer(s, with_beta, ExpForm::label_power(ctx.real_const("E"))), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::proofs
