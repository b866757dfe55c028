// The metrics of spec section 5, on the training rows with their true classes.
// Every max/min goes through ScalarTraits, every zero test through sign(), so an
// interval backend answers each with an enclosure or with Ratio::Kind::unknown.
#pragma once

#include "numerics/prompt.hpp"
#include "numerics/state.hpp"

#include <optional>
#include <vector>

namespace iclcert {

// A ratio num/den of non-negative quantities: finite, +inf (den = 0 < num), or
// undefined (both 0, or no pairs to take); unknown when an enclosure of den
// contains 0 but is not {0} (interval backends only).
template <Scalar T>
struct Ratio {
  enum class Kind { finite, pos_inf, undefined, unknown };
  Kind kind = Kind::undefined;
  T value{};  // meaningful when kind == finite
};

template <Scalar T>
struct Metrics {
  Ratio<T> fisher, gap_ratio;
  std::optional<T> min_label_margin;  // absent when N = 0 (never, by validation)
  std::optional<T> probe_margin;      // absent without a probe label
  std::optional<T> probe_alignment;   // absent without a probe label
};

template <Scalar T>
T squared_distance(std::span<const T> a, std::span<const T> b) {
  T s = from_int<T>(0);
  for (std::size_t k = 0; k < a.size(); ++k) {
    const T diff = a[k] - b[k];
    s += diff * diff;
  }
  return s;
}

// y[c] - max_{c' != c} y[c'].
template <Scalar T>
T label_margin(std::span<const T> y, int c) {
  std::optional<T> best;
  for (int k = 0; k < static_cast<int>(y.size()); ++k)
    if (k != c) best = best ? ScalarTraits<T>::max(*best, y[k]) : y[k];
  return y[c] - *best;
}

template <Scalar T>
Ratio<T> make_ratio(const T& num, const T& den, bool pos_inf_needs_positive_num) {
  using K = typename Ratio<T>::Kind;
  switch (sign_of(den)) {
    case Sign::positive:
    case Sign::negative: return {K::finite, num / den};
    case Sign::unknown: return {K::unknown, {}};
    case Sign::zero: break;
  }
  if (!pos_inf_needs_positive_num) return {K::pos_inf, {}};
  switch (sign_of(num)) {
    case Sign::zero: return {K::undefined, {}};
    case Sign::unknown: return {K::unknown, {}};
    default: return {K::pos_inf, {}};
  }
}

// F = between / within.
template <Scalar T>
Ratio<T> fisher_ratio(const State<T>& s, const std::vector<int>& labels, int C) {
  const int N = static_cast<int>(labels.size()), d = s.d;
  std::vector<int> n(C, 0);
  Matrix<T> mu_c(C, d, from_int<T>(0));
  std::vector<T> mu(d, from_int<T>(0));
  for (int i = 0; i < N; ++i) {
    ++n[labels[i]];
    for (int k = 0; k < d; ++k) {
      mu_c(labels[i], k) += s.Z(i, k);
      mu[k] += s.Z(i, k);
    }
  }
  for (int k = 0; k < d; ++k) mu[k] /= from_int<T>(N);
  for (int c = 0; c < C; ++c)
    if (n[c] > 0)
      for (int k = 0; k < d; ++k) mu_c(c, k) /= from_int<T>(n[c]);
  T within = from_int<T>(0), between = from_int<T>(0);
  for (int i = 0; i < N; ++i) within += squared_distance<T>(s.x(i), mu_c.row(labels[i]));
  for (int c = 0; c < C; ++c)
    if (n[c] > 0) between += from_int<T>(n[c]) * squared_distance<T>(mu_c.row(c), std::span<const T>(mu));
  return make_ratio(between, within, true);
}

// R = min over different-class pairs / max over same-class pairs of |x_i - x_j|^2.
template <Scalar T>
Ratio<T> gap_ratio(const State<T>& s, const std::vector<int>& labels) {
  using Tr = ScalarTraits<T>;
  const int N = static_cast<int>(labels.size());
  std::optional<T> min_between, max_within;
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) {
      T dist = squared_distance<T>(s.x(i), s.x(j));
      auto& slot = labels[i] == labels[j] ? max_within : min_between;
      if (!slot) slot = dist;
      else slot = labels[i] == labels[j] ? Tr::max(*slot, dist) : Tr::min(*slot, dist);
    }
  if (!min_between || !max_within) return {};
  return make_ratio(*min_between, *max_within, false);
}

template <Scalar T>
Metrics<T> compute_metrics(const State<T>& s, const Prompt& p) {
  Metrics<T> m;
  m.fisher = fisher_ratio(s, p.labels, p.C);
  m.gap_ratio = gap_ratio(s, p.labels);
  for (int i = 0; i < p.N; ++i) {
    T margin = label_margin<T>(s.y(i), p.labels[i]);
    m.min_label_margin = m.min_label_margin ? ScalarTraits<T>::min(*m.min_label_margin, margin) : margin;
  }
  if (p.probe_label) {
    auto yq = s.y(s.probe_row());
    m.probe_margin = label_margin<T>(yq, *p.probe_label);
    T mean = from_int<T>(0);
    for (const T& v : yq) mean += v;
    m.probe_alignment = yq[*p.probe_label] - mean / from_int<T>(p.C);
  }
  return m;
}

// Attention mass that row j puts on the training keys of class c (the probe key,
// when there is one, has no training class and is never counted).
template <Scalar T>
T class_mass(const Matrix<T>& attention, int j, const std::vector<int>& labels, int c) {
  T mass = from_int<T>(0);
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == c) mass += attention(j, i);
  return mass;
}

}  // namespace iclcert
