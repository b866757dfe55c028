// Extraction of the reduced recursion (spec section 4) from a trained model: the
// E3 projection of every dense matrix onto span{M(theta)} with its residual, then
// reduced coefficients (beta, gamma, alpha, alpha') fitted to the projected full
// form, with the fit error. theory/extraction.md derives what is exact and why.
//
// Over Rational every number here is exact: the projection and the coefficients
// are exact rationals of the model file's numbers, and the residuals and fit errors
// are exact squared ratios (only their square roots, for display, are doubles).
//
// The reduced fit of a full layer with heads h = 1..H, kappa_h (score), nu_h (value):
//   alpha = sum_h nu_h[th1],  alpha' = sum_h nu_h[th5]       (values add across heads)
//   beta, gamma = mean of kappa_h[th1], kappa_h[th5] weighted by w_h = |nu_h[th1]| + |nu_h[th5]|
//                 (equal weights when every w_h is 0)
// With H = 1 this is exact in the kept components; with H > 1 it is exact when all
// heads share one score map, and otherwise an approximation the fit error measures.
//
// Which dropped components count (theory/extraction.md): under the softmax kernel
// with the probe not a key, kappa[th3], kappa[th6] and nu[th6] provably do not
// change any prediction, probe margin or label margin once kappa[th2], kappa[th4],
// nu[th2], nu[th3], nu[th4] are zero: they only shift scores by a constant over the
// keys, or add a multiple of 1_C to every label block. They are reported but left
// out of the fit error (`inert`). Everything else dropped counts.
#pragma once

#include "numerics/equivariant_projection.hpp"
#include "numerics/model.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace iclcert {

template <Scalar T>
struct MatrixExtraction {
  Theta<T> theta;          // of the projection P(W) = M(theta)
  T residual_squared;      // |W - P(W)|_F^2 / |W|_F^2 (0 for a full layer, and for W = 0)
  T norm_squared;          // |W|_F^2
};

template <Scalar T>
struct HeadExtraction {
  MatrixExtraction<T> score, value;
};

template <Scalar T>
struct LayerExtraction {
  enum class Source { reduced, full, dense } source;
  std::vector<HeadExtraction<T>> heads;  // empty for a reduced layer
  ReducedLayer<T> reduced;
  // Squared relative fit errors of the reduced layer against the projected full
  // layer: score (largest over heads) and value (of the heads' sum). 0 when exact.
  T score_fit_squared, value_fit_squared;
  bool inert_components_ignored = false;  // softmax and the probe not a key
};

template <Scalar T>
struct ModelExtraction {
  int d = 0, C = 0;
  std::vector<LayerExtraction<T>> layers;
  BasicModel<T> reduced;  // the extracted reduced model
  BasicModel<T> full;     // the projected full-form model (reduced layers kept as they are)
};

namespace detail {

// Which theta components the reduced layer keeps (th1, th5), and which dropped
// ones are inert under softmax with the probe not a key.
inline constexpr bool kKept[6] = {true, false, false, false, true, false};
inline constexpr bool kScoreInert[6] = {false, false, true, false, false, true};
inline constexpr bool kValueInert[6] = {false, false, false, false, false, true};

template <Scalar T>
T abs_of(const T& x) {
  return sign_of(x) == Sign::negative ? -x : x;
}

// |M(a) - M(b)|_F^2 over the counted components of a - b, relative to |M(a)|_F^2
// (0 when M(a) = 0). `inert` components of a are treated as if b had them too.
template <Scalar T>
T relative_theta_distance_squared(const Theta<T>& a, const Theta<T>& b, const bool* inert, int d, int C) {
  Theta<T> diff;
  for (int k = 0; k < 6; ++k) diff[k] = inert && inert[k] ? from_int<T>(0) : a[k] - b[k];
  const T norm = frobenius_squared(equivariant_matrix(a, d, C));
  if (sign_of(norm) == Sign::zero) return from_int<T>(0);
  return frobenius_squared(equivariant_matrix(diff, d, C)) / norm;
}

template <Scalar T>
MatrixExtraction<T> extract_matrix(const Matrix<T>& w, int d, int C) {
  EquivariantProjection<T> p = project_equivariant(w, d, C);
  return {p.theta, relative_residual_squared(w, p), frobenius_squared(w)};
}

template <Scalar T>
MatrixExtraction<T> from_theta(const Theta<T>& th, int d, int C) {
  return {th, from_int<T>(0), frobenius_squared(equivariant_matrix(th, d, C))};
}

template <Scalar T>
LayerExtraction<T> fit_reduced(std::vector<HeadExtraction<T>> heads, typename LayerExtraction<T>::Source source,
                               int d, int C, bool inert_ok) {
  LayerExtraction<T> out{source, std::move(heads), {}, from_int<T>(0), from_int<T>(0), inert_ok};
  const T zero = from_int<T>(0);
  T alpha = zero, alpha_label = zero, wsum = zero, beta = zero, gamma = zero, beta_eq = zero, gamma_eq = zero;
  for (const auto& h : out.heads) {
    alpha += h.value.theta[0];
    alpha_label += h.value.theta[4];
    const T w = abs_of(h.value.theta[0]) + abs_of(h.value.theta[4]);
    wsum += w;
    beta += w * h.score.theta[0];
    gamma += w * h.score.theta[4];
    beta_eq += h.score.theta[0];
    gamma_eq += h.score.theta[4];
  }
  const T H = from_int<T>(static_cast<long>(out.heads.size()));
  if (sign_of(wsum) == Sign::zero) {
    beta = beta_eq / H;
    gamma = gamma_eq / H;
  } else {
    beta = beta / wsum;
    gamma = gamma / wsum;
  }
  out.reduced.train = {beta, gamma, alpha, alpha_label};
  const Theta<T> kappa_hat{beta, zero, zero, zero, gamma, zero};
  const Theta<T> nu_hat{alpha, zero, zero, zero, alpha_label, zero};
  Theta<T> nu_sum{zero, zero, zero, zero, zero, zero};
  for (const auto& h : out.heads) {
    for (int k = 0; k < 6; ++k) nu_sum[k] += h.value.theta[k];
    const T e = relative_theta_distance_squared(h.score.theta, kappa_hat, inert_ok ? kScoreInert : nullptr, d, C);
    if (sign_of(e - out.score_fit_squared) == Sign::positive) out.score_fit_squared = e;
  }
  out.value_fit_squared = relative_theta_distance_squared(nu_sum, nu_hat, inert_ok ? kValueInert : nullptr, d, C);
  return out;
}

}  // namespace detail

// Extracts every layer of `model` for prompts of d features and C classes. Throws
// std::invalid_argument when a dense layer's size is not d + C.
template <Scalar T>
ModelExtraction<T> extract_model(const BasicModel<T>& model, int d, int C) {
  using Source = typename LayerExtraction<T>::Source;
  const bool inert_ok = model.kernel == Kernel::softmax && !model.probe_is_key;
  ModelExtraction<T> out{d, C, {}, {model.kernel, model.probe_label_init, model.probe_is_key, {}},
                         {model.kernel, model.probe_label_init, model.probe_is_key, {}}};
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto& layer = model.layers[l];
    if (const auto* r = std::get_if<ReducedLayer<T>>(&layer)) {
      LayerExtraction<T> e{Source::reduced, {}, *r, from_int<T>(0), from_int<T>(0), inert_ok};
      out.layers.push_back(e);
      out.reduced.layers.push_back(*r);
      out.full.layers.push_back(*r);
      continue;
    }
    std::vector<HeadExtraction<T>> heads;
    Source source;
    if (const auto* f = std::get_if<FullLayer<T>>(&layer)) {
      source = Source::full;
      for (const auto& h : f->heads) heads.push_back({detail::from_theta(h.score, d, C), detail::from_theta(h.value, d, C)});
    } else {
      source = Source::dense;
      for (const auto& h : std::get<DenseLayer<T>>(layer).heads) {
        if (h.score.rows() != static_cast<std::size_t>(d + C))
          throw std::invalid_argument("layer " + std::to_string(l + 1) + ": dense matrices are " +
                                      std::to_string(h.score.rows()) + " x " + std::to_string(h.score.rows()) +
                                      ", but d + C = " + std::to_string(d + C));
        heads.push_back({detail::extract_matrix(h.score, d, C), detail::extract_matrix(h.value, d, C)});
      }
    }
    FullLayer<T> projected;
    for (const auto& h : heads) projected.heads.push_back({h.score.theta, h.value.theta});
    out.full.layers.push_back(projected);
    LayerExtraction<T> e = detail::fit_reduced(std::move(heads), source, d, C, inert_ok);
    out.reduced.layers.push_back(e.reduced);
    out.layers.push_back(std::move(e));
  }
  return out;
}

}  // namespace iclcert
