// The symmetry group of spec section 3 acting on prompts, states and weights:
// g = (pi, sigma, tau) in S_d x S_C x S_N permutes feature coordinates, label
// coordinates and the training tokens (the probe stays last). A permutation p is
// stored as its images: p[i] is where index i goes.
//
//   (g.Z)(tau(i), pi(k)) = Z(i, k),  (g.Z)(tau(i), d + sigma(c)) = Z(i, d + c),
//   the probe row keeps its place;
//   g.prompt relabels consistently, so initial_state(g.p) == g.initial_state(p).
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/prompt.hpp"
#include "numerics/state.hpp"

#include <string>
#include <vector>

namespace iclcert::properties {

using Permutation = std::vector<int>;

Permutation identity_permutation(int n);
bool is_identity(const Permutation& p);
bool is_permutation(const Permutation& p, int n);
std::string to_string(const Permutation& p);  // "[2,0,1]"

// Which factor of the group a property draws from.
enum class PermutationKind { feature, label, token, composed };
const char* to_string(PermutationKind kind);

struct GroupElement {
  Permutation features, labels, tokens;  // sizes d, C, N

  static GroupElement identity(int d, int C, int N);
  // The non-identity factors, as "feature", "label", "token", joined by '+'; "identity" if none.
  std::string kind() const;
  bool operator==(const GroupElement&) const = default;
};

template <class T>
Matrix<T> act_on_tokens(const GroupElement& g, const Matrix<T>& Z, int d) {
  const int N = static_cast<int>(g.tokens.size());
  Matrix<T> out(Z.rows(), Z.cols());
  for (std::size_t j = 0; j < Z.rows(); ++j) {
    const std::size_t row = static_cast<int>(j) < N ? static_cast<std::size_t>(g.tokens[j]) : j;
    for (int k = 0; k < d; ++k) out(row, g.features[k]) = Z(j, k);
    for (std::size_t c = 0; c < g.labels.size(); ++c) out(row, d + g.labels[c]) = Z(j, d + c);
  }
  return out;
}

template <Scalar T>
State<T> act(const GroupElement& g, const State<T>& s) {
  return State<T>{s.d, s.C, act_on_tokens(g, s.Z, s.d)};
}

Prompt act(const GroupElement& g, const Prompt& p);

// P W P^T with P = diag(P_pi, P_sigma): the weight matrix seen in permuted
// coordinates. W commutes with every (pi, sigma) iff this equals W for all of them.
template <class T>
Matrix<T> act_on_weights(const GroupElement& g, const Matrix<T>& w, int d) {
  const int D = static_cast<int>(w.rows());
  auto image = [&](int k) { return k < d ? g.features[k] : d + g.labels[k - d]; };
  Matrix<T> out(D, D);
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) out(image(r), image(c)) = w(r, c);
  return out;
}

}  // namespace iclcert::properties
