// Classical classifiers of a prompt's probe from its N labelled points alone, in
// double arithmetic: the context in which a trained model's (and the recursion's)
// accuracy is read (issue 7). All three see exactly what the transformer sees.
//
//   nearest class mean   the class whose mean of training points is closest to the
//                        probe (classes without a point are skipped)
//   1-nearest neighbour  the class of the closest training point
//   logistic regression  multinomial, with a bias, fitted per prompt by Newton's
//                        method on the L2-penalised cross-entropy (all weights,
//                        the bias included, penalised by lambda/2 |W|^2, which
//                        keeps the fit finite on separable prompts, the usual case
//                        at N = 16)
// Ties go to the smallest class, as everywhere in iclcert. Distances are Euclidean.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace iclcert {

// One prompt's numbers as the batch path stores them (gpu/batch_backend.hpp).
struct PromptView {
  int d = 0, C = 0, N = 0;
  const double* X = nullptr;              // N x d, row-major
  const std::int32_t* labels = nullptr;   // N
  const double* probe = nullptr;          // d
};

enum class Baseline { nearest_class_mean, nearest_neighbour, logistic_regression };
inline constexpr std::array<Baseline, 3> kBaselines = {Baseline::nearest_class_mean, Baseline::nearest_neighbour,
                                                       Baseline::logistic_regression};
const char* baseline_name(Baseline b);  // "nearest_class_mean", "nearest_neighbour", "logistic_regression"

int nearest_class_mean(const PromptView& p);
int nearest_neighbour(const PromptView& p);

inline constexpr double kLogisticL2 = 1e-2;
// Newton stops at |gradient| <= this (the objective is O(N); rounding leaves about
// 1e-9 at N = 16), or after 100 steps.
inline constexpr double kLogisticTolerance = 1e-7;

struct LogisticFit {
  std::vector<double> W;  // C x (d + 1), row c = (w_c, b_c)
  int iterations = 0;
  double gradient_norm = 0;  // |grad| at the end (<= kLogisticTolerance when converged)
  bool converged = false;
};
LogisticFit fit_logistic(const PromptView& p, double l2 = kLogisticL2);
int logistic_regression(const PromptView& p, double l2 = kLogisticL2);

int classify(Baseline b, const PromptView& p);

}  // namespace iclcert
