// The classical baselines of `iclcert compare` (numerics/baselines.hpp): hand cases
// with known answers and ties, and the logistic fit checked against its optimality
// condition computed here independently (the penalised gradient is zero).
#include "numerics/baselines.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace iclcert {
namespace {

struct OwnedPrompt {
  int d, C;
  std::vector<double> X;
  std::vector<std::int32_t> labels;
  std::vector<double> probe;
  PromptView view() const {
    return {d, C, static_cast<int>(labels.size()), X.data(), labels.data(), probe.data()};
  }
};

TEST(Baselines, NearestClassMeanAndNeighbourOnALine) {
  // Class 0 at 0 and 2 (mean 1), class 1 at 10.
  OwnedPrompt p{1, 2, {0, 2, 10}, {0, 0, 1}, {4}};
  EXPECT_EQ(nearest_class_mean(p.view()), 0);  // |4 - 1| < |4 - 10|
  EXPECT_EQ(nearest_neighbour(p.view()), 0);   // 2 is closest
  p.probe = {6};
  EXPECT_EQ(nearest_class_mean(p.view()), 1);  // |6 - 1| = 5 > 4
  EXPECT_EQ(nearest_neighbour(p.view()), 0);   // 2 and 10 tie at distance 4: the smaller class
  p.labels = {1, 1, 0};                         // swap the classes: the tie now goes to class 0 at 10
  EXPECT_EQ(nearest_neighbour(p.view()), 0);
}

TEST(Baselines, NearestClassMeanSkipsEmptyClasses) {
  OwnedPrompt p{2, 3, {5, 5, 6, 5}, {2, 2}, {0, 0}};
  EXPECT_EQ(nearest_class_mean(p.view()), 2);  // the only class with points
}

// The gradient of sum_i -log softmax(W x~_i)[c_i] + l2/2 |W|^2, written out here.
double penalised_gradient_norm(const OwnedPrompt& p, const LogisticFit& fit, double l2) {
  const int D = p.d + 1, N = static_cast<int>(p.labels.size());
  std::vector<double> g(fit.W.size(), 0.0);
  for (int i = 0; i < N; ++i) {
    std::vector<double> s(p.C);
    double m = -1e300;
    for (int c = 0; c < p.C; ++c) {
      s[c] = fit.W[c * D + p.d];
      for (int k = 0; k < p.d; ++k) s[c] += fit.W[c * D + k] * p.X[i * p.d + k];
      m = std::max(m, s[c]);
    }
    double z = 0;
    for (double& v : s) z += (v = std::exp(v - m));
    for (int c = 0; c < p.C; ++c) {
      const double r = s[c] / z - (c == p.labels[i] ? 1 : 0);
      for (int k = 0; k < p.d; ++k) g[c * D + k] += r * p.X[i * p.d + k];
      g[c * D + p.d] += r;
    }
  }
  double n = 0;
  for (std::size_t k = 0; k < g.size(); ++k) n += std::pow(g[k] + l2 * fit.W[k], 2);
  return std::sqrt(n);
}

TEST(Baselines, LogisticFitIsStationaryOnRandomPrompts) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 20; ++trial) {
    OwnedPrompt p{4, 3, {}, {}, {}};
    const int N = 16;
    std::vector<double> w(p.C * p.d);
    for (double& v : w) v = normal(rng);
    for (int i = 0; i < N; ++i) {
      int best = 0;
      double best_score = -1e300;
      std::vector<double> x(p.d);
      for (double& v : x) v = normal(rng);
      for (int c = 0; c < p.C; ++c) {
        double s = 0;
        for (int k = 0; k < p.d; ++k) s += w[c * p.d + k] * x[k];
        if (s > best_score) best = c, best_score = s;
      }
      p.X.insert(p.X.end(), x.begin(), x.end());
      p.labels.push_back(best);
    }
    p.probe = {0.1, -0.2, 0.3, 0.4};
    const LogisticFit fit = fit_logistic(p.view());
    EXPECT_LT(fit.iterations, 30) << "trial " << trial;  // Newton: few steps
    EXPECT_TRUE(fit.converged) << "trial " << trial << ": |grad| " << fit.gradient_norm;
    EXPECT_LT(penalised_gradient_norm(p, fit, kLogisticL2), kLogisticTolerance) << "trial " << trial;
  }
}

TEST(Baselines, LogisticRegressionSeparatesALine) {
  OwnedPrompt p{1, 2, {-2, -1, 1, 2}, {0, 0, 1, 1}, {0.5}};
  EXPECT_EQ(logistic_regression(p.view()), 1);
  p.probe = {-0.5};
  EXPECT_EQ(logistic_regression(p.view()), 0);
  // Every baseline agrees on a far, clear-cut probe.
  p.probe = {-5};
  for (Baseline b : kBaselines) EXPECT_EQ(classify(b, p.view()), 0) << baseline_name(b);
}

}  // namespace
}  // namespace iclcert
