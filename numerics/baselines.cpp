#include "numerics/baselines.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <limits>

namespace iclcert {
namespace {

double squared_distance(const double* a, const double* b, int d) {
  double s = 0;
  for (int k = 0; k < d; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

int argmax(const Eigen::VectorXd& v) {
  int best = 0;
  for (int c = 1; c < v.size(); ++c)
    if (v[c] > v[best]) best = c;
  return best;
}

// Class probabilities softmax(W x~) for x~ = (x, 1), shifted by the maximum.
Eigen::VectorXd probabilities(const Eigen::MatrixXd& W, const Eigen::VectorXd& x) {
  Eigen::VectorXd s = W * x;
  s.array() -= s.maxCoeff();
  s = s.array().exp();
  return s / s.sum();
}

// The penalised objective sum_i -log p_i[c_i] + l2/2 |W|^2.
double objective(const Eigen::MatrixXd& W, const std::vector<Eigen::VectorXd>& x, const PromptView& p, double l2) {
  double f = 0.5 * l2 * W.squaredNorm();
  for (int i = 0; i < p.N; ++i) {
    Eigen::VectorXd s = W * x[i];
    const double m = s.maxCoeff();
    f += m + std::log((s.array() - m).exp().sum()) - s[p.labels[i]];
  }
  return f;
}

}  // namespace

const char* baseline_name(Baseline b) {
  switch (b) {
    case Baseline::nearest_class_mean: return "nearest_class_mean";
    case Baseline::nearest_neighbour: return "nearest_neighbour";
    case Baseline::logistic_regression: return "logistic_regression";
  }
  return "?";
}

int nearest_class_mean(const PromptView& p) {
  std::vector<double> mean(static_cast<std::size_t>(p.C) * p.d, 0.0);
  std::vector<int> count(p.C, 0);
  for (int i = 0; i < p.N; ++i) {
    ++count[p.labels[i]];
    for (int k = 0; k < p.d; ++k) mean[static_cast<std::size_t>(p.labels[i]) * p.d + k] += p.X[i * p.d + k];
  }
  int best = -1;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int c = 0; c < p.C; ++c) {
    if (count[c] == 0) continue;
    for (int k = 0; k < p.d; ++k) mean[static_cast<std::size_t>(c) * p.d + k] /= count[c];
    const double dist = squared_distance(&mean[static_cast<std::size_t>(c) * p.d], p.probe, p.d);
    if (best < 0 || dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

int nearest_neighbour(const PromptView& p) {
  int best = -1;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int i = 0; i < p.N; ++i) {
    const double dist = squared_distance(p.X + i * p.d, p.probe, p.d);
    if (best < 0 || dist < best_distance || (dist == best_distance && p.labels[i] < best)) {
      best = p.labels[i];
      best_distance = dist;
    }
  }
  return best;
}

LogisticFit fit_logistic(const PromptView& p, double l2) {
  const int D = p.d + 1, C = p.C, n = C * D;
  std::vector<Eigen::VectorXd> x(p.N, Eigen::VectorXd(D));
  for (int i = 0; i < p.N; ++i) {
    for (int k = 0; k < p.d; ++k) x[i][k] = p.X[i * p.d + k];
    x[i][p.d] = 1.0;
  }
  // W is stored row-major in the parameter vector w: w[c * D + k] = W(c, k).
  Eigen::MatrixXd W = Eigen::MatrixXd::Zero(C, D);
  LogisticFit fit;
  for (fit.iterations = 0; fit.iterations < 100; ++fit.iterations) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(n);
    Eigen::MatrixXd H = l2 * Eigen::MatrixXd::Identity(n, n);
    for (int i = 0; i < p.N; ++i) {
      const Eigen::VectorXd prob = probabilities(W, x[i]);
      const Eigen::MatrixXd xx = x[i] * x[i].transpose();
      for (int c = 0; c < C; ++c) {
        const double r = prob[c] - (c == p.labels[i] ? 1.0 : 0.0);
        g.segment(c * D, D) += r * x[i];
        for (int e = 0; e < C; ++e)
          H.block(c * D, e * D, D, D) += (prob[c] * ((c == e ? 1.0 : 0.0) - prob[e])) * xx;
      }
    }
    for (int c = 0; c < C; ++c) g.segment(c * D, D) += l2 * W.row(c).transpose();
    fit.gradient_norm = g.norm();
    if (fit.gradient_norm <= kLogisticTolerance) {
      fit.converged = true;
      break;
    }
    // The objective is strictly convex (l2 > 0), so H is positive definite.
    const Eigen::VectorXd step = H.ldlt().solve(-g);
    Eigen::MatrixXd dW(C, D);
    for (int c = 0; c < C; ++c) dW.row(c) = step.segment(c * D, D).transpose();
    // Backtracking (Armijo) line search.
    const double f0 = objective(W, x, p, l2), slope = g.dot(step);
    double t = 1.0;
    while (t > 1e-12 && objective(W + t * dW, x, p, l2) > f0 + 1e-4 * t * slope) t *= 0.5;
    W += t * dW;
  }
  fit.W.resize(static_cast<std::size_t>(n));
  for (int c = 0; c < C; ++c)
    for (int k = 0; k < D; ++k) fit.W[static_cast<std::size_t>(c) * D + k] = W(c, k);
  return fit;
}

int logistic_regression(const PromptView& p, double l2) {
  const LogisticFit fit = fit_logistic(p, l2);
  const int D = p.d + 1;
  Eigen::VectorXd s(p.C);
  for (int c = 0; c < p.C; ++c) {
    s[c] = fit.W[static_cast<std::size_t>(c) * D + p.d];
    for (int k = 0; k < p.d; ++k) s[c] += fit.W[static_cast<std::size_t>(c) * D + k] * p.probe[k];
  }
  return argmax(s);
}

int classify(Baseline b, const PromptView& p) {
  switch (b) {
    case Baseline::nearest_class_mean: return nearest_class_mean(p);
    case Baseline::nearest_neighbour: return nearest_neighbour(p);
    case Baseline::logistic_regression: return logistic_regression(p);
  }
  return -1;
}

}  // namespace iclcert
