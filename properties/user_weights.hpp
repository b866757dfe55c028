// Equivariance of a user's model (issue 4, part 5): `iclcert fuzz --property
// equivariance --model M.json`. Draws prompts of the model's d, C (spec section 1
// sampler) and, for each, a feature, a label and a token permutation; measures
// E1 at every layer as the largest |layer(g.s) - g.layer(s)| relative to the
// size of that layer's update (equivariance.hpp, e1_measure), in MPFR at 128 bits
// by default so that rounding (~1e-38) cannot be mistaken for a violation.
// Also reports claim E3 for every dense matrix: its projection onto the
// six-dimensional span of M(theta) and the relative residual |W - P(W)|_F / |W|_F.
// The tolerance the weights warrant is documented in theory/equivariance.md.
#pragma once

#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "properties/group_action.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::properties {

// e3nn's equivariance test tolerances, adopted for weights stored in that precision.
inline constexpr double kFloat32Tolerance = 1e-3;
inline constexpr double kFloat64Tolerance = 1e-10;

struct UserWeightsOptions {
  int d = 0, C = 0, N = 0;
  std::uint64_t seed = 1;
  int cases = 200;
  long bits = 128;                     // MPFR precision; 0: run in double
  double tolerance = kFloat64Tolerance;
  std::optional<Prompt> prompt;        // also checked as the first case
};

struct KindWorst {
  PermutationKind kind = PermutationKind::feature;
  double relative = 0;  // largest relative violation seen for this kind
  int case_index = -1;  // which case (-1: none drawn, e.g. a factor of size 1)
  std::size_t layer = 0;
  int row = 0, col = 0;
  GroupElement g;
  Prompt prompt;
};

struct DenseProjection {
  std::size_t layer = 0, head = 0;
  std::string matrix;              // "score" or "value"
  std::array<double, 6> theta{};   // of the projection (exact rational, shown rounded)
  double relative_residual = 0;
};

struct UserWeightsReport {
  std::array<KindWorst, 3> worst;  // feature, label, token
  int cases = 0;
  double tolerance = 0;
  std::vector<DenseProjection> projections;

  const KindWorst& largest() const;  // the kind with the largest violation
  bool held() const { return largest().relative <= tolerance; }
};

// Throws std::invalid_argument when dense sizes do not match d + C.
UserWeightsReport check_user_weights(const Model& model, const UserWeightsOptions& options);

// The relative violation of one case (prompt, model, g), as the scan measures it:
// what `iclcert fuzz --replay` recomputes for property "equivariance".
double measure_case(const Prompt& prompt, const Model& model, const GroupElement& g, long bits);

// The E3 part alone (every dense head of the model).
std::vector<DenseProjection> dense_projections(const Model& model, int d, int C);

}  // namespace iclcert::properties
