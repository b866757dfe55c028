// A prompt of the in-context task (spec section 1), held exactly.
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/rational.hpp"

#include <optional>
#include <vector>

namespace iclcert {

struct Prompt {
  int d = 0;  // features
  int C = 0;  // classes
  int N = 0;  // training points
  Matrix<Rational> X;              // N x d training features
  std::vector<int> labels;         // N classes in 0..C-1
  std::vector<Rational> probe;     // d features of the probe x_q
  std::optional<int> probe_label;  // the probe's true class, when known

  std::vector<int> class_sizes() const {
    std::vector<int> n(C, 0);
    for (int c : labels) ++n[c];
    return n;
  }
};

}  // namespace iclcert
