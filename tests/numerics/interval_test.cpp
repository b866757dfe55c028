// The interval backends (Arb balls, MPFI) enclose the true values:
//  - every state entry and finite metric of an 8-layer softmax run at P bits
//    contains the MPFR value at 4P bits (a reference far closer to the truth than
//    the enclosure is wide: docs/toolchain.md), P = 64 and 128;
//  - Arb and MPFI enclosures overlap entry-wise;
//  - linear kernel: the exact rational run lies inside both;
//  - the checker itself fails on a deliberately wrong enclosure.
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

namespace iclcert {
namespace {

static_assert(RigorousScalar<ArbBall>);
static_assert(RigorousScalar<MpfiInterval>);
static_assert(RigorousScalar<Rational>);
static_assert(!RigorousScalar<MpfrReal>);

constexpr std::uint64_t kSeeds[] = {11, 12, 13};
constexpr int kLayers = 8;

Rational exact_value(const MpfrReal& x) {
  Rational r;
  mpfr_get_q(r.backend().data(), x.get());
  return r;
}
Rational exact_value(const Rational& x) { return x; }

Model softmax_model(std::uint64_t seed) {
  Xoshiro256 rng(seed * 7919);
  std::vector<Layer<Rational>> layers;
  for (int l = 0; l < kLayers; ++l)
    layers.push_back(ReducedLayer<Rational>{
        {testing::draw(rng, 0, 0.5), testing::draw(rng, 0, 2), testing::draw(rng, 0, 1), testing::draw(rng, 0, 1)},
        std::nullopt});
  return testing::model_of(Kernel::softmax, std::move(layers));
}

// Calls visit(where, enclosure, reference) for every state entry and every metric
// that both traces have as a value.
template <class I, class R>
void for_each_pair(const Trace<I>& iv, const Trace<R>& ref,
                   const std::function<void(const std::string&, const I&, const R&)>& visit) {
  ASSERT_EQ(iv.entries.size(), ref.entries.size());
  for (std::size_t t = 0; t < iv.entries.size(); ++t) {
    const auto& a = iv.entries[t];
    const auto& b = ref.entries[t];
    const std::string at = "t=" + std::to_string(t) + " ";
    for (std::size_t k = 0; k < a.state.Z.data().size(); ++k)
      visit(at + "Z[" + std::to_string(k) + "]", a.state.Z.data()[k], b.state.Z.data()[k]);
    auto ratio = [&](const char* name, const Ratio<I>& x, const Ratio<R>& y) {
      if (x.kind == Ratio<I>::Kind::finite && y.kind == Ratio<R>::Kind::finite) visit(at + name, x.value, y.value);
    };
    ratio("fisher", a.metrics.fisher, b.metrics.fisher);
    ratio("gap_ratio", a.metrics.gap_ratio, b.metrics.gap_ratio);
    auto opt = [&](const char* name, const std::optional<I>& x, const std::optional<R>& y) {
      if (x && y) visit(at + name, *x, *y);
    };
    opt("min_label_margin", a.metrics.min_label_margin, b.metrics.min_label_margin);
    opt("probe_margin", a.metrics.probe_margin, b.metrics.probe_margin);
    opt("probe_alignment", a.metrics.probe_alignment, b.metrics.probe_alignment);
    opt("probe_attention_same_class", a.probe_attention_same_class, b.probe_attention_same_class);
    opt("train_attention_same_class", a.train_attention_same_class, b.train_attention_same_class);
  }
}

struct CheckResult {
  int checked = 0;
  std::vector<std::string> failures;
  double widest = 0;  // largest width over the last entry's state
};

// Every value of `ref` must lie in the matching enclosure of `iv`.
template <class I, class R>
CheckResult check_containment(const Trace<I>& iv, const Trace<R>& ref) {
  CheckResult r;
  const std::size_t last = iv.entries.size() - 1;
  for_each_pair<I, R>(iv, ref, [&](const std::string& where, const I& x, const R& y) {
    ++r.checked;
    if (!ScalarTraits<I>::contains(x, exact_value(y)))
      r.failures.push_back(where + ": " + ScalarTraits<I>::to_string(x) + " misses the reference");
    if (where.rfind("t=" + std::to_string(last) + " Z", 0) == 0)
      r.widest = std::max(r.widest, ScalarTraits<I>::width(x));
  });
  return r;
}

template <class I>
void expect_encloses_reference(const char* backend, long bits) {
  for (std::uint64_t seed : kSeeds) {
    const Prompt p = testing::sampled(4, 3, 24, seed);
    const Model m = softmax_model(seed);
    Trace<MpfrReal> ref;
    {
      WorkingPrecision scope(4 * bits);
      ref = run_recursion<MpfrReal>(p, m);
    }
    WorkingPrecision scope(bits);
    const Trace<I> iv = run_recursion<I>(p, m);
    const CheckResult r = check_containment(iv, ref);
    std::printf("%s:%ld seed %llu: %d values enclosed, widest final state entry %.3g\n", backend, bits,
                static_cast<unsigned long long>(seed), r.checked, r.widest);
    EXPECT_TRUE(r.failures.empty()) << backend << ":" << bits << " seed " << seed << ": " << r.failures.size()
                                    << " misses, first " << r.failures.front();
    EXPECT_GT(r.checked, 8 * 25 * 7);
    // Useful, not just sound: 8 layers of these models lose about 40 to 48 bits
    // to interval overestimation (measured: widest 2^-(bits-47) at worst).
    EXPECT_LT(r.widest, std::ldexp(1.0, -static_cast<int>(bits) + 56));
  }
}

TEST(IntervalContainment, ArbEnclosesMpfrAtFourTimesThePrecision) {
  expect_encloses_reference<ArbBall>("interval", 64);
  expect_encloses_reference<ArbBall>("interval", 128);
}

TEST(IntervalContainment, MpfiEnclosesMpfrAtFourTimesThePrecision) {
  expect_encloses_reference<MpfiInterval>("interval-mpfi", 64);
  expect_encloses_reference<MpfiInterval>("interval-mpfi", 128);
}

TEST(IntervalContainment, ArbAndMpfiOverlapEntrywise) {
  WorkingPrecision scope(64);
  for (std::uint64_t seed : kSeeds) {
    const Prompt p = testing::sampled(4, 3, 24, seed);
    const Model m = softmax_model(seed);
    const Trace<ArbBall> arb = run_recursion<ArbBall>(p, m);
    const Trace<MpfiInterval> mpfi = run_recursion<MpfiInterval>(p, m);
    int compared = 0;
    for_each_pair<ArbBall, MpfiInterval>(arb, mpfi, [&](const std::string& where, const ArbBall& a,
                                                        const MpfiInterval& b) {
      ++compared;
      using A = ScalarTraits<ArbBall>;
      using B = ScalarTraits<MpfiInterval>;
      EXPECT_TRUE(A::lower(a) <= B::upper(b) && B::lower(b) <= A::upper(a))
          << "seed " << seed << " " << where << ": " << A::to_string(a) << " vs " << B::to_string(b);
    });
    EXPECT_GT(compared, 8 * 25 * 7);
  }
}

TEST(IntervalContainment, LinearKernelExactValueLiesInBothEnclosures) {
  // Cubic growth per layer keeps the exact rationals small only for a few layers.
  const Model m = testing::model_of(Kernel::linear, {testing::reduced("1/4", "1", "1/2", "1/2"),
                                                     testing::reduced("1/8", "1/2", "1/4", "1/2"),
                                                     testing::reduced("1/4", "1", "1/2", "1/4")});
  for (std::uint64_t seed : kSeeds) {
    const Prompt p = testing::sampled(3, 3, 12, seed);
    const Trace<Rational> exact = run_recursion<Rational>(p, m);
    for (long bits : {64L, 128L}) {
      WorkingPrecision scope(bits);
      const CheckResult a = check_containment(run_recursion<ArbBall>(p, m), exact);
      const CheckResult b = check_containment(run_recursion<MpfiInterval>(p, m), exact);
      EXPECT_TRUE(a.failures.empty()) << "seed " << seed << " arb: " << a.failures.front();
      EXPECT_TRUE(b.failures.empty()) << "seed " << seed << " mpfi: " << b.failures.front();
      EXPECT_GT(a.checked, 3 * 13 * 6);
      std::printf("linear seed %llu, %ld bits: %d exact values enclosed (arb widest %.3g, mpfi widest %.3g)\n",
                  static_cast<unsigned long long>(seed), bits, a.checked, a.widest, b.widest);
    }
  }
}

// The checker must be able to fail: an enclosure moved off the reference value
// (an "exp" that returns a too-narrow, shifted ball) is reported.
template <class I>
void expect_checker_catches_wrong_enclosure() {
  const Prompt p = testing::sampled(4, 3, 24, kSeeds[0]);
  const Model m = softmax_model(kSeeds[0]);
  Trace<MpfrReal> ref;
  {
    WorkingPrecision scope(256);
    ref = run_recursion<MpfrReal>(p, m);
  }
  WorkingPrecision scope(64);
  Trace<I> iv = run_recursion<I>(p, m);
  ASSERT_TRUE(check_containment(iv, ref).failures.empty());
  I& victim = iv.entries[3].state.Z(5, 1);
  const Rational truth = exact_value(ref.entries[3].state.Z(5, 1));
  ASSERT_TRUE(ScalarTraits<I>::contains(victim, truth));
  // Nudge the lower endpoint inward past the true value.
  const Rational past = truth + (ScalarTraits<I>::upper(victim) - truth) / 2;
  ASSERT_GT(past, truth);
  victim = ScalarTraits<I>::intersect(victim, ScalarTraits<I>::from_rational(past));
  const CheckResult r = check_containment(iv, ref);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("t=3 Z[36]"), std::string::npos) << r.failures[0];
}

TEST(IntervalContainment, CheckerCatchesAShrunkEnclosure) {
  expect_checker_catches_wrong_enclosure<ArbBall>();
  expect_checker_catches_wrong_enclosure<MpfiInterval>();
}

}  // namespace
}  // namespace iclcert
