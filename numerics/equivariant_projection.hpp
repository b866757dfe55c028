// Claim E3 (spec section 6): the orthogonal projection of a dense (d+C) x (d+C)
// matrix onto span{M(theta)}, the maps that commute with every (pi, sigma) of
// S_d x S_C, and the size of what is left over.
//
// Why block averages: G acts on matrices by W -> P_g^T W P_g, an orthogonal map for
// the Frobenius inner product, so the group average (1/|G|) sum_g P_g^T W P_g is the
// orthogonal projection onto the commuting maps. Averaging over S_d x S_C maps each
// orbit of entries to its mean; the orbits are the six blocks
//   x-x diagonal, x-x off-diagonal, x-y, y-x, y-y diagonal, y-y off-diagonal,
// so P(W) has, in each, the mean of W over that block. From them
//   th2 = mean x-x off-diagonal,  th1 = mean x-x diagonal - th2,
//   th3 = mean x-y,  th4 = mean y-x,
//   th6 = mean y-y off-diagonal,  th5 = mean y-y diagonal - th6.
// With d = 1 (or C = 1) there is no off-diagonal block and I = J: the matrix P(W)
// is still unique and we report th2 = 0 (th6 = 0).
//
// Only + - * / are used, so over Rational the projection and the squared residual
// are exact; theta satisfies equivariant_matrix(theta, d, C) == projection exactly.
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/model.hpp"
#include "numerics/scalar.hpp"

#include <cmath>
#include <stdexcept>

namespace iclcert {

template <Scalar T>
struct EquivariantProjection {
  Theta<T> theta;
  Matrix<T> projection;  // M(theta)
  Matrix<T> residual;    // W - M(theta), orthogonal to every M(theta')
};

template <Scalar T>
T frobenius_squared(const Matrix<T>& m) {
  T s = from_int<T>(0);
  for (const T& v : m.data()) s += v * v;
  return s;
}

// <A, B>_F = sum_rc A_rc B_rc.
template <Scalar T>
T frobenius_inner(const Matrix<T>& a, const Matrix<T>& b) {
  T s = from_int<T>(0);
  for (std::size_t k = 0; k < a.data().size(); ++k) s += a.data()[k] * b.data()[k];
  return s;
}

template <Scalar T>
EquivariantProjection<T> project_equivariant(const Matrix<T>& w, int d, int C) {
  const int D = d + C;
  if (d < 1 || C < 1 || w.rows() != static_cast<std::size_t>(D) || w.cols() != static_cast<std::size_t>(D))
    throw std::invalid_argument("project_equivariant: expected a (d+C) x (d+C) matrix with d, C >= 1");
  // Sums and counts per block: 0 x-x diag, 1 x-x off, 2 x-y, 3 y-x, 4 y-y diag, 5 y-y off.
  T sum[6];
  long count[6] = {0, 0, 0, 0, 0, 0};
  for (T& s : sum) s = from_int<T>(0);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) {
      const bool rx = r < d, cx = c < d;
      const int block = rx && cx ? (r == c ? 0 : 1) : rx ? 2 : cx ? 3 : (r == c ? 4 : 5);
      sum[block] += w(r, c);
      ++count[block];
    }
  T mean[6];
  for (int b = 0; b < 6; ++b) mean[b] = count[b] ? sum[b] / from_int<T>(count[b]) : from_int<T>(0);
  EquivariantProjection<T> out;
  out.theta = {mean[0] - mean[1], mean[1], mean[2], mean[3], mean[4] - mean[5], mean[5]};
  out.projection = equivariant_matrix(out.theta, d, C);
  out.residual = Matrix<T>(D, D);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) out.residual(r, c) = w(r, c) - out.projection(r, c);
  return out;
}

// |W - P(W)|_F^2 / |W|_F^2 (exact over Rational); 0 for W = 0.
template <Scalar T>
T relative_residual_squared(const Matrix<T>& w, const EquivariantProjection<T>& p) {
  const T norm = frobenius_squared(w);
  if (sign_of(norm) == Sign::zero) return from_int<T>(0);
  return frobenius_squared(p.residual) / norm;
}

// |W - P(W)|_F / |W|_F, for display.
template <Scalar T>
double relative_residual(const Matrix<T>& w, const EquivariantProjection<T>& p) {
  return std::sqrt(ScalarTraits<T>::to_double(relative_residual_squared(w, p)));
}

}  // namespace iclcert
