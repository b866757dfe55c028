// Metrics of theory/metrics.md on configurations whose values are known by hand.
#include "numerics/metrics.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

using testing::q;
using K = Ratio<Rational>::Kind;

// A state with the given 1-d or 2-d points, one-hot labels and a probe label block.
State<Rational> state_of(const std::vector<std::vector<Rational>>& xs, const std::vector<int>& labels, int C,
                         const std::vector<Rational>& probe_y, Prompt& p) {
  const int d = static_cast<int>(xs[0].size()), N = static_cast<int>(xs.size());
  p.d = d;
  p.C = C;
  p.N = N;
  p.labels = labels;
  p.X = Matrix<Rational>(N, d);
  p.probe = std::vector<Rational>(d, 0);
  State<Rational> s{d, C, Matrix<Rational>(N + 1, d + C, Rational(0))};
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < d; ++k) s.Z(i, k) = xs[i][k];
    s.Z(i, d + labels[i]) = 1;
  }
  for (int c = 0; c < C; ++c) s.Z(N, d + c) = probe_y[c];
  return s;
}

// Two clusters in 1-d: class 0 at {0, 2}, class 1 at {10, 12}.
// mu_0 = 1, mu_1 = 11, mu = 6: within = 4 * 1 = 4, between = 2*25 + 2*25 = 100, F = 25.
// Gap: closest different-class pair 2 and 10 (64), farthest same-class 0 and 2 (4): R = 16.
TEST(Metrics, TwoSeparatedClusters) {
  Prompt p;
  auto s = state_of({{q("0")}, {q("2")}, {q("10")}, {q("12")}}, {0, 0, 1, 1}, 2, {q("3/4"), q("1/4")}, p);
  p.probe_label = 1;
  Metrics<Rational> m = compute_metrics(s, p);
  ASSERT_EQ(m.fisher.kind, K::finite);
  EXPECT_EQ(m.fisher.value, q("25"));
  ASSERT_EQ(m.gap_ratio.kind, K::finite);
  EXPECT_EQ(m.gap_ratio.value, q("16"));
  EXPECT_EQ(*m.min_label_margin, q("1"));
  // Probe true class 1 with yhat = (3/4, 1/4): margin -1/2, alignment 1/4 - 1/2 = -1/4.
  EXPECT_EQ(*m.probe_margin, q("-1/2"));
  EXPECT_EQ(*m.probe_alignment, q("-1/4"));
}

TEST(Metrics, IdenticalPointsGiveUndefinedFisherAndInfiniteGap) {
  Prompt p;
  auto s = state_of({{q("1"), q("1")}, {q("1"), q("1")}, {q("1"), q("1")}}, {0, 1, 1}, 2, {q("0"), q("0")}, p);
  Metrics<Rational> m = compute_metrics(s, p);
  EXPECT_EQ(m.fisher.kind, K::undefined);  // within = between = 0
  EXPECT_EQ(m.gap_ratio.kind, K::pos_inf);  // same-class max distance 0
  EXPECT_FALSE(m.probe_margin.has_value());  // no probe label
}

TEST(Metrics, CollapsedClassesGiveInfiniteFisher) {
  Prompt p;
  auto s = state_of({{q("-1")}, {q("-1")}, {q("5")}}, {0, 0, 1}, 3, {q("0"), q("0"), q("0")}, p);
  Metrics<Rational> m = compute_metrics(s, p);
  EXPECT_EQ(m.fisher.kind, K::pos_inf);
  // Every training point's label margin is 1 - 0; the absent class 2 is ignored in F.
  EXPECT_EQ(*m.min_label_margin, q("1"));
}

TEST(Metrics, SingleClassHasZeroFisherAndNoGap) {
  Prompt p;
  auto s = state_of({{q("0")}, {q("3")}}, {1, 1}, 2, {q("0"), q("0")}, p);
  Metrics<Rational> m = compute_metrics(s, p);
  ASSERT_EQ(m.fisher.kind, K::finite);
  EXPECT_EQ(m.fisher.value, q("0"));
  EXPECT_EQ(m.gap_ratio.kind, K::undefined);  // no different-class pair
}

TEST(Metrics, DoubleAgreesWithRational) {
  Prompt p;
  auto s = state_of({{q("0"), q("1/3")}, {q("2"), q("-1")}, {q("7/5"), q("3")}, {q("12"), q("1")}}, {0, 1, 0, 1}, 2,
                    {q("1"), q("-2")}, p);
  p.probe_label = 0;
  Metrics<Rational> exact = compute_metrics(s, p);
  State<double> sd{s.d, s.C, s.Z.map([](const Rational& v) { return nearest_double(v); })};
  Metrics<double> fast = compute_metrics(sd, p);
  EXPECT_NEAR(fast.fisher.value, nearest_double(exact.fisher.value), 1e-14);
  EXPECT_NEAR(fast.gap_ratio.value, nearest_double(exact.gap_ratio.value), 1e-14);
  EXPECT_DOUBLE_EQ(*fast.probe_margin, 3.0);
}

}  // namespace
}  // namespace iclcert
