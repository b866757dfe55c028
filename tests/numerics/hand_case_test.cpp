// One layer worked by hand (N = 2, d = 1, C = 2), checked exactly and in MPFR.
//
// Prompt: x_1 = 1 (class 0), x_2 = -1 (class 1), probe x_q = 1/2 (class 0), y_q = 0.
// Tokens: z_1 = (1; 1, 0), z_2 = (-1; 0, 1), z_q = (1/2; 0, 0).
// Reduced layer beta = 1, gamma = 1, alpha = 1/2, alpha' = 1; keys z_1, z_2.
//
// Scores s_ji = beta x_j x_i + gamma <y_j, y_i>:
//   row 1: s_11 = 1 + 1 = 2,   s_12 = -1 + 0 = -1
//   row 2: s_21 = -1,          s_22 = 1 + 1 = 2
//   probe: s_q1 = 1/2,         s_q2 = -1/2
// Linear kernel (A = s / 2):
//   row 1: A = (1, -1/2):  x_1' = 1 + 1/2 (1 * 1 + (-1/2)(-1)) = 7/4
//                          y_1' = (1, 0) + (1, 0) - 1/2 (0, 1) = (2, -1/2)
//   row 2: A = (-1/2, 1):  x_2' = -1 + 1/2 (-1/2 - 1) = -7/4,  y_2' = (-1/2, 2)
//   probe: A = (1/4, -1/4): x_q' = 1/2 + 1/2 (1/4 + 1/4) = 3/4, y_q' = (1/4, -1/4)
// Metrics after the layer: class means 7/4 and -7/4, within = 0 < between = 49/8,
// so F = +inf; no same-class pair, so the gap ratio is undefined; label margins
// 2 - (-1/2) = 5/2 for both points; probe margin 1/4 - (-1/4) = 1/2; alignment
// 1/4 - (1/4 - 1/4)/2 = 1/4.
// Softmax kernel: row 1 weights (p, 1 - p) with p = 1 / (1 + e^-3), row 2
// (1 - p, p), probe (r, 1 - r) with r = 1 / (1 + e^-1):
//   x_1' = 1 + (p - (1 - p)) / 2,   y_1' = (1 + p, 1 - p)
//   x_q' = 1/2 + (2r - 1) / 2,      y_q' = (r, 1 - r)
#include "numerics/recursion.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

using testing::q;

Prompt hand_prompt() {
  Prompt p;
  p.d = 1;
  p.C = 2;
  p.N = 2;
  p.X = Matrix<Rational>(2, 1);
  p.X(0, 0) = 1;
  p.X(1, 0) = -1;
  p.labels = {0, 1};
  p.probe = {q("1/2")};
  p.probe_label = 0;
  return p;
}

TEST(HandCase, LinearKernelIsExact) {
  Model m = testing::model_of(Kernel::linear, {testing::reduced("1", "1", "1/2", "1")});
  Trace<Rational> t = run_recursion<Rational>(hand_prompt(), m);
  ASSERT_EQ(t.entries.size(), 2u);
  const State<Rational>& s = t.entries[1].state;
  EXPECT_EQ(s.Z(0, 0), q("7/4"));
  EXPECT_EQ(s.Z(0, 1), q("2"));
  EXPECT_EQ(s.Z(0, 2), q("-1/2"));
  EXPECT_EQ(s.Z(1, 0), q("-7/4"));
  EXPECT_EQ(s.Z(1, 1), q("-1/2"));
  EXPECT_EQ(s.Z(1, 2), q("2"));
  EXPECT_EQ(s.Z(2, 0), q("3/4"));
  EXPECT_EQ(s.Z(2, 1), q("1/4"));
  EXPECT_EQ(s.Z(2, 2), q("-1/4"));

  const Metrics<Rational>& m1 = t.entries[1].metrics;
  EXPECT_EQ(m1.fisher.kind, Ratio<Rational>::Kind::pos_inf);
  EXPECT_EQ(m1.gap_ratio.kind, Ratio<Rational>::Kind::undefined);
  EXPECT_EQ(*m1.min_label_margin, q("5/2"));
  EXPECT_EQ(*m1.probe_margin, q("1/2"));
  EXPECT_EQ(*m1.probe_alignment, q("1/4"));
  // Attention of the probe on its class (class 0) in layer 1: A_q1 = 1/4.
  EXPECT_EQ(*t.entries[0].probe_attention_same_class, q("1/4"));
  // Training rows' own-class mass: row 1 puts 1 on class 0, row 2 puts 1 on class 1.
  EXPECT_EQ(*t.entries[0].train_attention_same_class, q("1"));
}

TEST(HandCase, SoftmaxKernelMatchesClosedFormTo1e30) {
  MpfrPrecision scope(256);
  Model m = testing::model_of(Kernel::softmax, {testing::reduced("1", "1", "1/2", "1")});
  Trace<MpfrReal> t = run_recursion<MpfrReal>(hand_prompt(), m);
  const State<MpfrReal>& s = t.entries[1].state;

  // Closed forms, computed with MPFR directly (not through the core).
  auto closed = [](long minus_gap) {  // 1 / (1 + e^-gap)
    mpfr_t v;
    mpfr_init2(v, 256);
    mpfr_set_si(v, -minus_gap, MPFR_RNDN);
    mpfr_exp(v, v, MPFR_RNDN);
    mpfr_add_ui(v, v, 1, MPFR_RNDN);
    mpfr_ui_div(v, 1, v, MPFR_RNDN);
    MpfrReal out;
    mpfr_set(out.get(), v, MPFR_RNDN);
    mpfr_clear(v);
    return out;
  };
  const MpfrReal p = closed(3), r = closed(1);
  const MpfrReal one = from_int<MpfrReal>(1), half = from_rational<MpfrReal>(q("1/2"));
  const std::vector<std::pair<MpfrReal, MpfrReal>> expected_actual = {
      {one + (p - (one - p)) * half, s.Z(0, 0)},
      {one + p, s.Z(0, 1)},
      {one - p, s.Z(0, 2)},
      {-one - (p - (one - p)) * half, s.Z(1, 0)},
      {one - p, s.Z(1, 1)},
      {one + p, s.Z(1, 2)},
      {half + (r + r - one) * half, s.Z(2, 0)},
      {r, s.Z(2, 1)},
      {one - r, s.Z(2, 2)},
  };
  for (const auto& [want, got] : expected_actual) {
    MpfrReal diff = want - got;
    EXPECT_LT(std::abs(ScalarTraits<MpfrReal>::to_double(diff)), 1e-30)
        << ScalarTraits<MpfrReal>::to_string(want) << " vs " << ScalarTraits<MpfrReal>::to_string(got);
  }
  EXPECT_EQ(t.entries[1].metrics.fisher.kind, Ratio<MpfrReal>::Kind::pos_inf);
}

TEST(HandCase, RationalSoftmaxIsRefusedWithAReason) {
  Model m = testing::model_of(Kernel::softmax, {testing::reduced("1", "1", "1/2", "1")});
  try {
    run_recursion<Rational>(hand_prompt(), m);
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exp"), std::string::npos) << what;
    EXPECT_NE(what.find("mpfr"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace iclcert
