// One layer of the reduced recursion (spec section 4) over symbolic terms: a
// second, independent copy of the math of numerics/layer.hpp, written for Z3.
// tests/proofs/symbolic_layer_test.cpp compares it exactly with the core
// (apply_reduced<Rational>, linear kernel) and, for the E form, with the core in
// MPFR at 256 bits.
//
// How exp(s_ji) is represented (ExpForm):
//   linear        A_ji = s_ji / n_keys (no exp; exact).
//   label_power   beta = 0 and every label inner product <y_j, y_i> an integer k
//                 (one-hot labels, probe y = 0): exp(gamma k) = E^k with the symbol
//                 E = exp(gamma). Exact; E > 1 iff gamma > 0.
//   uninterpreted exp(s) = f(s) for an uninterpreted f: statements proved with it
//                 hold for every positive f, exp included (used for identities).
//   given         the attention A_ji itself is the given term weights[j * n_keys + i]
//                 (a symbol that the caller constrains, e.g. to a certified
//                 enclosure of the softmax weight); no normalisation here.
#pragma once

#include "proofs/rational_function.hpp"

#include <optional>
#include <vector>

namespace iclcert::proofs {

struct ExpForm {
  enum class Kind { linear, label_power, uninterpreted, given } kind = Kind::linear;
  std::optional<z3::expr> E;          // label_power
  std::optional<z3::func_decl> f;     // uninterpreted
  std::vector<z3::expr> weights;      // given: A, (N + 1) x n_keys, row-major

  static ExpForm linear() { return {}; }
  static ExpForm label_power(const z3::expr& E) { return {Kind::label_power, E, std::nullopt, {}}; }
  static ExpForm uninterpreted(const z3::func_decl& f) { return {Kind::uninterpreted, std::nullopt, f, {}}; }
  static ExpForm given(std::vector<z3::expr> w) { return {Kind::given, std::nullopt, std::nullopt, std::move(w)}; }
};

// Rows 0..N-1 training tokens, row N the probe; columns x (d) then y (C).
struct SymbolicState {
  int N = 0, d = 0, C = 0;
  std::vector<RatFn> Z;  // (N + 1) x (d + C), row-major

  RatFn& at(int row, int col) { return Z[static_cast<std::size_t>(row * (d + C) + col)]; }
  const RatFn& at(int row, int col) const { return Z[static_cast<std::size_t>(row * (d + C) + col)]; }
};

struct SymbolicCoefficients {
  RatFn beta, gamma, alpha, alpha_label;
};

// Training features are fresh symbols "x_i_k", labels one-hot e_{labels[i]},
// probe features "xq_k", probe y = 0 (probe_label_init zero).
SymbolicState symbolic_initial_state(z3::context& ctx, int d, int C, const std::vector<int>& labels);

// A state whose every entry is a fresh symbol "z_j_k": the most general input.
SymbolicState symbolic_general_state(z3::context& ctx, int N, int d, int C);

// z_j <- z_j + (alpha (A X)_j, alpha' (A Y)_j), keys = training rows (and the
// probe when probe_is_key), all rows updated from the same input state.
SymbolicState apply_symbolic_layer(const SymbolicState& s, const SymbolicCoefficients& c, const ExpForm& form,
                                   bool probe_is_key = false);

// Metrics of spec section 5 on the training rows, as rational functions.
struct SymbolicScatter {
  std::vector<RatFn> class_means;  // C x d (classes with no point: 0)
  std::vector<RatFn> mean;         // d
  RatFn within, between;
};
SymbolicScatter symbolic_scatter(const SymbolicState& s, const std::vector<int>& labels);

// The class-aggregated one-layer map with beta = 0 and one-hot labels: every
// point of class c moves by alpha m_c, where
//   m_c = (sum_c' n_c' w_cc' mu_c') / (sum_c' n_c' w_cc'),  w_cc' = E if c = c' else 1,
// for symbolic (real, positive) class sizes n_c. Returns the new class means.
std::vector<RatFn> class_mean_update(const std::vector<RatFn>& n, const std::vector<RatFn>& mu, const RatFn& alpha,
                                     const RatFn& E);

}  // namespace iclcert::proofs
