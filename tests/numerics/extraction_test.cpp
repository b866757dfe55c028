// Claim E3 and the extraction of the reduced recursion (numerics/extraction.hpp,
// theory/extraction.md):
//  - the projection equals the group average over S_d x S_C computed by brute force
//    (every permutation pair), exactly in rationals;
//  - M(theta) is recovered exactly, with residual 0, and an orthogonal perturbation
//    E gives residual^2 = |E|^2 / |W|^2 exactly;
//  - the inert components (kappa th3, th6, nu th6) change no prediction under softmax
//    with the probe not a key: the extracted reduced model and the full model have
//    overlapping enclosures of the centred probe logits at every depth (Arb, 256 bits),
//    and the same certified predictions; under the linear kernel they do change the
//    exact result, and the fit error counts them;
//  - heads sharing a score map merge exactly; different score maps give a fit error.
#include "numerics/extraction.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace iclcert {
namespace {

using testing::draw;

Theta<Rational> random_theta(Xoshiro256& rng) {
  Theta<Rational> t;
  for (auto& v : t) v = draw(rng, -1, 1);
  return t;
}

Matrix<Rational> random_matrix(Xoshiro256& rng, int D) {
  Matrix<Rational> m(D, D);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) m(r, c) = draw(rng, -2, 2);
  return m;
}

// (1/|G|) sum_g P_g^T W P_g over every pair (pi, sigma), with (P_g z)_r = z_{g(r)}.
Matrix<Rational> brute_force_average(const Matrix<Rational>& w, int d, int C) {
  const int D = d + C;
  std::vector<int> pi(d), sigma(C);
  std::iota(pi.begin(), pi.end(), 0);
  Matrix<Rational> sum(D, D, Rational(0));
  long count = 0;
  do {
    std::iota(sigma.begin(), sigma.end(), 0);
    do {
      std::vector<int> g(D);
      for (int k = 0; k < d; ++k) g[k] = pi[k];
      for (int c = 0; c < C; ++c) g[d + c] = d + sigma[c];
      for (int r = 0; r < D; ++r)
        for (int c = 0; c < D; ++c) sum(r, c) += w(g[r], g[c]);
      ++count;
    } while (std::next_permutation(sigma.begin(), sigma.end()));
  } while (std::next_permutation(pi.begin(), pi.end()));
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) sum(r, c) /= count;
  return sum;
}

TEST(Extraction, ProjectionIsTheBruteForceGroupAverage) {
  for (auto [d, C] : {std::pair{1, 2}, {2, 2}, {3, 2}, {3, 3}, {4, 3}}) {
    Xoshiro256 rng(100 * d + C);
    const Matrix<Rational> w = random_matrix(rng, d + C);
    const EquivariantProjection<Rational> p = project_equivariant(w, d, C);
    EXPECT_EQ(p.projection, brute_force_average(w, d, C)) << "d " << d << " C " << C;
    // Pythagoras, exactly: the residual is orthogonal to the span.
    EXPECT_EQ(frobenius_squared(w), frobenius_squared(p.projection) + frobenius_squared(p.residual));
    EXPECT_EQ(frobenius_inner(p.projection, p.residual), Rational(0));
  }
}

TEST(Extraction, EquivariantMatrixHasResidualZeroAndItsTheta) {
  Xoshiro256 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const Theta<Rational> th = random_theta(rng);
    const Matrix<Rational> w = equivariant_matrix(th, 4, 3);
    const MatrixExtraction<Rational> e = detail::extract_matrix(w, 4, 3);
    EXPECT_EQ(e.theta, th);
    EXPECT_EQ(e.residual_squared, Rational(0));
  }
}

TEST(Extraction, OrthogonalPerturbationGivesItsExactResidual) {
  Xoshiro256 rng(17);
  const int d = 4, C = 3;
  const Theta<Rational> th = random_theta(rng);
  const Matrix<Rational> r = random_matrix(rng, d + C);
  const Matrix<Rational> e = project_equivariant(r, d, C).residual;  // E: zero mean on each block
  Matrix<Rational> w = equivariant_matrix(th, d, C);
  for (int i = 0; i < d + C; ++i)
    for (int j = 0; j < d + C; ++j) w(i, j) += e(i, j);
  const MatrixExtraction<Rational> x = detail::extract_matrix(w, d, C);
  EXPECT_EQ(x.theta, th);
  EXPECT_EQ(x.residual_squared, frobenius_squared(e) / frobenius_squared(w));
  EXPECT_GT(x.residual_squared, Rational(0));
}

// kappa = (beta, 0, k3, 0, gamma, k6), nu = (alpha, 0, 0, 0, alpha', n6).
FullHead<Rational> head_with_inert(Xoshiro256& rng, const ReducedCoefficients<Rational>& c) {
  return {{c.beta, 0, draw(rng, -1, 1), 0, c.gamma, draw(rng, -1, 1)},
          {c.alpha, 0, 0, 0, c.alpha_label, draw(rng, -1, 1)}};
}

// Centred label block of the probe: y - mean(y).
std::vector<ArbBall> centred_probe_logits(const State<ArbBall>& s) {
  const auto y = s.y(s.probe_row());
  ArbBall mean = from_int<ArbBall>(0);
  for (const auto& v : y) mean += v;
  mean = mean / from_int<ArbBall>(static_cast<long>(y.size()));
  std::vector<ArbBall> out;
  for (const auto& v : y) out.push_back(v - mean);
  return out;
}

TEST(Extraction, InertComponentsChangeNoPredictionUnderSoftmax) {
  WorkingPrecision precision(256);
  long certified = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Xoshiro256 rng(seed * 31337);
    Model full;
    for (int l = 0; l < 3; ++l) {
      const ReducedCoefficients<Rational> c{draw(rng, -0.5, 0.5), draw(rng, 0, 2), draw(rng, -1, 1), draw(rng, 0, 1)};
      FullLayer<Rational> layer;
      layer.heads.push_back(head_with_inert(rng, c));
      if (seed % 2 == 0) {  // a second head with the same kept score components
        FullHead<Rational> h = head_with_inert(rng, c);
        h.value[0] = draw(rng, -1, 1);
        h.value[4] = draw(rng, 0, 1);
        layer.heads.push_back(h);
      }
      full.layers.push_back(seed % 4 == 1 ? Layer<Rational>(testing::dense_from_full(layer, 3, 3)) : Layer<Rational>(layer));
    }
    const ModelExtraction<Rational> e = extract_model(full, 3, 3);
    for (const auto& l : e.layers) {
      EXPECT_TRUE(l.inert_components_ignored);
      EXPECT_EQ(l.score_fit_squared, Rational(0)) << "seed " << seed;
      EXPECT_EQ(l.value_fit_squared, Rational(0)) << "seed " << seed;
    }
    const Prompt p = testing::sampled(3, 3, 9, seed);
    const Trace<ArbBall> a = run_recursion<ArbBall>(p, full), b = run_recursion<ArbBall>(p, e.reduced);
    for (std::size_t t = 0; t < a.entries.size(); ++t) {
      const auto ya = centred_probe_logits(a.entries[t].state), yb = centred_probe_logits(b.entries[t].state);
      for (std::size_t c = 0; c < ya.size(); ++c)
        EXPECT_TRUE(ScalarTraits<ArbBall>::contains(ya[c] - yb[c], Rational(0))) << "seed " << seed << " t " << t;
      const int ca = certified_prediction<ArbBall>(ya), cb = certified_prediction<ArbBall>(yb);
      EXPECT_EQ(ca, cb) << "seed " << seed << " t " << t;
      certified += ca >= 0;
      // The features do not see the inert components at all.
      for (int j = 0; j < a.entries[t].state.rows(); ++j)
        for (int k = 0; k < 3; ++k)
          EXPECT_TRUE(ScalarTraits<ArbBall>::contains(a.entries[t].state.x(j)[k] - b.entries[t].state.x(j)[k], Rational(0)));
    }
  }
  EXPECT_GT(certified, 16);  // most depths decided, so the equality above has teeth
}

TEST(Extraction, InertComponentsCountUnderTheLinearKernel) {
  Xoshiro256 rng(4242);
  Model full;
  full.kernel = Kernel::linear;
  for (int l = 0; l < 2; ++l) {
    const ReducedCoefficients<Rational> c{draw(rng, -0.5, 0.5), draw(rng, 0, 2), draw(rng, -1, 1), draw(rng, 0, 1)};
    full.layers.push_back(FullLayer<Rational>{{head_with_inert(rng, c)}});
  }
  const ModelExtraction<Rational> e = extract_model(full, 3, 3);
  EXPECT_FALSE(e.layers[0].inert_components_ignored);
  EXPECT_GT(e.layers[0].score_fit_squared, Rational(0));
  // And rightly: exactly, the centred probe logits differ.
  const Prompt p = testing::sampled(3, 3, 7, 3);
  const Trace<Rational> a = run_recursion<Rational>(p, full), b = run_recursion<Rational>(p, e.reduced);
  const auto& sa = a.entries.back().state;
  const auto& sb = b.entries.back().state;
  Rational ma = 0, mb = 0;
  for (int c = 0; c < 3; ++c) {
    ma += sa.y(sa.probe_row())[c];
    mb += sb.y(sb.probe_row())[c];
  }
  bool differs = false;
  for (int c = 0; c < 3; ++c) differs |= sa.y(sa.probe_row())[c] - ma / 3 != sb.y(sb.probe_row())[c] - mb / 3;
  EXPECT_TRUE(differs);
}

TEST(Extraction, HeadsMergeIntoSummedValues) {
  Model full;
  const Rational z = 0;
  FullLayer<Rational> layer;
  layer.heads.push_back({{Rational(1, 2), z, z, z, 2, z}, {Rational(1, 4), z, z, z, Rational(1, 2), z}});
  layer.heads.push_back({{Rational(1, 2), z, z, z, 2, z}, {Rational(-1, 8), z, z, z, 1, z}});
  full.layers.push_back(layer);
  const ModelExtraction<Rational> e = extract_model(full, 2, 3);
  const auto& r = e.layers[0].reduced.train;
  EXPECT_EQ(r.beta, Rational(1, 2));
  EXPECT_EQ(r.gamma, 2);
  EXPECT_EQ(r.alpha, Rational(1, 8));
  EXPECT_EQ(r.alpha_label, Rational(3, 2));
  EXPECT_EQ(e.layers[0].score_fit_squared, 0);
  EXPECT_EQ(e.layers[0].value_fit_squared, 0);
  // Different score maps: the value-weighted mean, with a fit error.
  std::get<FullLayer<Rational>>(full.layers[0]).heads[1].score[4] = 4;
  const ModelExtraction<Rational> f = extract_model(full, 2, 3);
  // weights |1/4| + |1/2| = 3/4 and |-1/8| + |1| = 9/8: gamma = (3/4 * 2 + 9/8 * 4) / (15/8) = 16/5
  EXPECT_EQ(f.layers[0].reduced.train.gamma, Rational(16, 5));
  EXPECT_GT(f.layers[0].score_fit_squared, 0);
}

TEST(Extraction, DroppedRelevantComponentsGiveTheirExactFitError) {
  // One head, kappa = (1, 1/2, 0, 0, 0, 0) on d = 2, C = 2: M(kappa) has x-x block
  // [[3/2, 1/2], [1/2, 3/2]], |M|^2 = 5; the fit keeps th1 = 1, M(kappa_hat) = I on x,
  // and the dropped part J/2 has |.|^2 = 1, so the squared fit error is 1/5.
  Model m;
  const Rational z = 0;
  m.layers.push_back(FullLayer<Rational>{{{{1, Rational(1, 2), z, z, z, z}, {1, z, z, z, 1, z}}}});
  const ModelExtraction<Rational> e = extract_model(m, 2, 2);
  EXPECT_EQ(e.layers[0].score_fit_squared, Rational(1, 5));
  EXPECT_EQ(e.layers[0].value_fit_squared, 0);
}

TEST(Extraction, ReducedLayersPassThroughAndDenseSizesAreChecked) {
  Model m = testing::model_of(Kernel::softmax, {testing::reduced("1/4", "1", "1/2", "1/2")});
  const ModelExtraction<Rational> e = extract_model(m, 2, 3);
  EXPECT_EQ(e.layers[0].source, LayerExtraction<Rational>::Source::reduced);
  EXPECT_EQ(std::get<ReducedLayer<Rational>>(e.reduced.layers[0]).train.alpha, Rational(1, 2));
  Model dense;
  dense.layers.push_back(testing::dense_from_full(FullLayer<Rational>{{{{1, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 1, 0}}}}, 2, 3));
  EXPECT_THROW(extract_model(dense, 2, 4), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert
