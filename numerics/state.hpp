// The state (X^t, Y^t) of spec section 2: N + 1 token rows z_j = (x_j, y_j),
// training points 0..N-1, then the probe in row N.
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "numerics/scalar.hpp"

#include <span>

namespace iclcert {

template <Scalar T>
struct State {
  int d = 0, C = 0;
  Matrix<T> Z;  // (N+1) x (d+C)

  int rows() const { return static_cast<int>(Z.rows()); }
  int probe_row() const { return rows() - 1; }
  std::span<const T> x(int j) const { return Z.row(j).first(d); }
  std::span<const T> y(int j) const { return Z.row(j).subspan(d, C); }
};

// z_i = (x_i, e_{c_i}); z_q = (x_q, 0) or (x_q, (1/C) 1).
template <Scalar T>
State<T> initial_state(const Prompt& p, ProbeLabelInit init) {
  State<T> s{p.d, p.C, Matrix<T>(p.N + 1, p.d + p.C, from_int<T>(0))};
  for (int i = 0; i < p.N; ++i) {
    for (int k = 0; k < p.d; ++k) s.Z(i, k) = from_rational<T>(p.X(i, k));
    s.Z(i, p.d + p.labels[i]) = from_int<T>(1);
  }
  for (int k = 0; k < p.d; ++k) s.Z(p.N, k) = from_rational<T>(p.probe[k]);
  if (init == ProbeLabelInit::uniform)
    for (int c = 0; c < p.C; ++c) s.Z(p.N, p.d + c) = from_rational<T>(Rational(1, p.C));
  return s;
}

}  // namespace iclcert
