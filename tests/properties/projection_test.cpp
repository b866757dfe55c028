// numerics/equivariant_projection.hpp: exact, in rationals.
#include "numerics/equivariant_projection.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_rational.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

Matrix<Rational> some_matrix(int D, int salt) {
  Matrix<Rational> m(D, D);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) m(r, c) = Rational((r * 7 + c * 3 + salt) % 11 - 5, 1 + (r + c) % 4);
  return m;
}

TEST(EquivariantProjection, FixesEveryMTheta) {
  for (int d = 1; d <= 4; ++d)
    for (int C = 1; C <= 3; ++C) {
      const Theta<Rational> th{Rational(1, 3), Rational(-2), Rational(5, 7), Rational(0), Rational(3, 2), Rational(-1, 9)};
      const auto m = equivariant_matrix(th, d, C);
      const auto p = project_equivariant(m, d, C);
      EXPECT_EQ(p.projection, m) << "d=" << d << " C=" << C;
      EXPECT_EQ(frobenius_squared(p.residual), 0);
      EXPECT_EQ(relative_residual_squared(m, p), 0);
      if (d >= 2 && C >= 2) {
        EXPECT_EQ(p.theta, th);  // theta is unique when both blocks have off-diagonals
      }
    }
}

TEST(EquivariantProjection, IsIdempotentWithAnOrthogonalResidual) {
  const int d = 3, C = 2;
  const auto w = some_matrix(d + C, 1);
  const auto p = project_equivariant(w, d, C);
  EXPECT_EQ(project_equivariant(p.projection, d, C).projection, p.projection);
  for (int k = 0; k < 6; ++k) {
    Theta<Rational> e{0, 0, 0, 0, 0, 0};
    e[k] = 1;
    EXPECT_EQ(frobenius_inner(p.residual, equivariant_matrix(e, d, C)), 0) << "basis " << k;
  }
  EXPECT_EQ(frobenius_squared(w), frobenius_squared(p.projection) + frobenius_squared(p.residual));
  EXPECT_GT(relative_residual(w, p), 0.1);
}

TEST(EquivariantProjection, BlockMeansOfAKnownMatrix) {
  // d = 2, C = 2: x-x diag {1, 3}, off {2, 4}; x-y all 5; y-x {6, 8, 6, 8}; y-y diag {1, 1}, off {0, 2}.
  Matrix<Rational> w(4, 4);
  const int v[4][4] = {{1, 2, 5, 5}, {4, 3, 5, 5}, {6, 8, 1, 0}, {6, 8, 2, 1}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) w(r, c) = v[r][c];
  const auto p = project_equivariant(w, 2, 2);
  const Theta<Rational> expected{2 - 3, 3, 5, 7, 1 - 1, 1};
  EXPECT_EQ(p.theta, expected);
  // |R|^2: x-x diag 1 + 1, off 1 + 1, y-x 4 * 1, y-y off 1 + 1 = 10; |W|^2 = 55 + 75 + 101 + 105 = 336.
  EXPECT_EQ(frobenius_squared(p.residual), 10);
  EXPECT_EQ(relative_residual_squared(w, p), Rational(10, 336));
}

TEST(EquivariantProjection, WorksInDouble) {
  Matrix<double> w(3, 3, 0.0);
  w(0, 0) = 1;
  const auto p = project_equivariant(w, 2, 1);
  EXPECT_DOUBLE_EQ(p.projection(1, 1), 0.5);
  EXPECT_NEAR(relative_residual(w, p), std::sqrt(0.5), 1e-15);
}

TEST(EquivariantProjection, RejectsAWrongSize) {
  EXPECT_THROW(project_equivariant(Matrix<Rational>(3, 3), 2, 2), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert
