// Forward-mode automatic differentiation over a scalar of the core: Dual<T> is a
// value with its partial derivatives with respect to up to kMaxDualDims variables
// (R1's boxed coefficients, claims/robustness.hpp). It is a Scalar, so the one
// templated recursion (numerics/recursion.hpp) runs on it unchanged.
//
// What is enclosed. Seed variable k with `Dual<T>::variable(X_k, k)` (value: an
// enclosure X_k of the variable's range, gradient: e_k) and every other input
// with a constant (gradient 0). For T rigorous (ArbBall, MpfiInterval), a quantity
// f computed by the core then has, for every point x of the box X:
//   f(x) in value,  and  grad f(x) in gradient
// wherever f is differentiable at x. Each operation applies the chain rule with
// T's operations, which enclose their exact result for every choice of points of
// their operands, so the rule's result at x is enclosed when its inputs at x are.
//
// Non-smooth operations. The core takes max and min (gap ratio, label margins).
// Where the order of a and b is not certain on the box, the gradient is the hull
// of both gradients. That is what the mean-value (centred) form needs: f is a
// composition of smooth operations with max and min, so on any segment from m to
// x it is absolutely continuous with derivative, almost everywhere, one of the
// selections of the chain rule, each enclosed in `gradient`; hence
//   f(x) - f(m) = integral_0^1 grad f(m + s (x - m)) . (x - m) ds
//              in  sum_k gradient[k] (X_k - m_k).
// Branches on a sign (make_ratio's den) are taken on the value's sign over the
// whole box, so every point of the box takes the same branch (or the result is
// Ratio::unknown and is not used).
//
// Softmax uses T's own enclosure of the weights (the tight one of
// theory/softmax_enclosure.md for Arb) and w_i' = w_i (s_i' - sum_k w_k s_k'), the
// convex combination sum_k w_k s_k' also bounded by the hull of the s_k'.
//
// The centred (mean-value) form, at every operation. Seeded with
// `Dual<T>::centred_variable(X_k, m_k, k, offsets)`, with m a point of the box X and
// offsets[k] an enclosure of X_k - m_k, every quantity f also carries `mid`, an
// enclosure of f(m), and each operation intersects its value with
//   mid + sum_k gradient[k] offsets[k]
// (by the integral form of the mean-value theorem above, f(x) lies there for every
// x in X). So every intermediate quantity of the recursion, the state after each
// layer and the metrics' numerators and denominators alike, is enclosed to within
// O(h^2) of its true range (h the box's half-width) instead of wrapping from layer
// to layer; that is what decides R1's boxes over gamma (claims/centred_form.hpp).
// Soundness needs f absolutely continuous along segments of X: every operation
// here is smooth or Lipschitz (max, min) except a quotient whose denominator may
// vanish on X, which is therefore not centred (nor differentiable). A non-finite
// centred enclosure is not intersected. Without offsets (plain `variable`), `mid`
// is an enclosure of f over the whole box (it contains f(m) too) and nothing is
// intersected: plain forward-mode AD.
//
// Cost: a constant carries no gradient (dims = 0), so only quantities that depend
// on the variables pay for them; the centred form doubles the values' work.
#pragma once

#include "numerics/attention.hpp"
#include "numerics/scalar.hpp"

#include <array>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace iclcert {

inline constexpr int kMaxDualDims = 4;  // beta, gamma, alpha, alpha_label

template <Scalar T>
struct Dual {
  using Offsets = std::array<T, kMaxDualDims>;
  T value{};
  std::array<T, kMaxDualDims> gradient{};  // components at dims and beyond are 0
  int dims = 0;
  T mid{};                           // encloses the quantity at the midpoint (a constant: value)
  const Offsets* offsets = nullptr;  // X - m per variable when centred (owned by the caller)

  Dual() = default;
  explicit Dual(T v) : value(v), mid(std::move(v)) {}
  static Dual variable(T v, int k) {
    Dual d(std::move(v));
    d.gradient[k] = from_int<T>(1);
    d.dims = k + 1;
    return d;
  }
  // Variable k over X_k, with m_k the midpoint and `offsets` (X - m), which must
  // outlive every quantity computed from it.
  static Dual centred_variable(T over_box, T at_mid, int k, const Offsets* offsets) {
    Dual d = variable(std::move(over_box), k);
    d.mid = std::move(at_mid);
    d.offsets = offsets;
    return d;
  }
  const T& derivative(int k) const { return gradient[k]; }

  // value := value intersected with mid + gradient . offsets (a no-op unless centred).
  Dual& centre() {
    if (!offsets || dims == 0) return *this;
    using Tr = ScalarTraits<T>;
    T c = mid;
    for (int k = 0; k < dims; ++k) c += gradient[k] * (*offsets)[k];
    if (Tr::width(c) < std::numeric_limits<double>::infinity()) value = Tr::intersect(value, c);
    return *this;
  }

  Dual& operator+=(const Dual& b) {
    value += b.value;
    mid += b.mid;
    for (int k = 0; k < b.dims; ++k) gradient[k] += b.gradient[k];
    return join(b).centre();
  }
  Dual& operator-=(const Dual& b) {
    value -= b.value;
    mid -= b.mid;
    for (int k = 0; k < b.dims; ++k) gradient[k] -= b.gradient[k];
    return join(b).centre();
  }
  Dual& operator*=(const Dual& b) {
    // (a b)' = a' b + a b'
    for (int k = 0; k < dims; ++k) gradient[k] *= b.value;
    for (int k = 0; k < b.dims; ++k) gradient[k] += value * b.gradient[k];
    value *= b.value;
    mid *= b.mid;
    return join(b).centre();
  }
  Dual& operator/=(const Dual& b) {
    // (a / b)' = (a' - (a / b) b') / b
    value /= b.value;
    mid /= b.mid;
    for (int k = 0; k < b.dims; ++k) gradient[k] -= value * b.gradient[k];
    join(b);
    for (int k = 0; k < dims; ++k) gradient[k] /= b.value;
    // A denominator that may vanish on the box: no mean-value theorem (see above).
    const Sign s = ScalarTraits<T>::sign(b.value);
    return s == Sign::positive || s == Sign::negative ? centre() : *this;
  }
  friend Dual operator+(Dual a, const Dual& b) { return a += b; }
  friend Dual operator-(Dual a, const Dual& b) { return a -= b; }
  friend Dual operator*(Dual a, const Dual& b) { return a *= b; }
  friend Dual operator/(Dual a, const Dual& b) { return a /= b; }
  friend Dual operator-(const Dual& a) {
    Dual r(-a.value);
    r.mid = -a.mid;
    for (int k = 0; k < a.dims; ++k) r.gradient[k] = -a.gradient[k];
    r.dims = a.dims;
    r.offsets = a.offsets;
    return r;
  }

  // The result of an operation with b depends on the variables of both.
  Dual& join(const Dual& b) {
    dims = std::max(dims, b.dims);
    if (!offsets) offsets = b.offsets;
    return *this;
  }
};

namespace detail {

// An enclosure of a union b (rigorous T), for the gradient of max/min where the
// order is not certain.
template <Scalar T>
T gradient_hull(const T& a, const T& b) {
  return ScalarTraits<T>::hull(a, b);
}

// max (take_max) or min of a and b.
template <Scalar T>
Dual<T> select(const Dual<T>& a, const Dual<T>& b, bool take_max) {
  using Tr = ScalarTraits<T>;
  const Sign s = Tr::sign(a.value - b.value);
  if (s == Sign::positive) return take_max ? a : b;
  if (s == Sign::negative) return take_max ? b : a;
  Dual<T> r(take_max ? Tr::max(a.value, b.value) : Tr::min(a.value, b.value));
  r.mid = take_max ? Tr::max(a.mid, b.mid) : Tr::min(a.mid, b.mid);
  r.dims = std::max(a.dims, b.dims);
  r.offsets = a.offsets ? a.offsets : b.offsets;
  for (int k = 0; k < r.dims; ++k) r.gradient[k] = gradient_hull(a.gradient[k], b.gradient[k]);
  return r.centre();
}

}  // namespace detail

template <Scalar T>
struct ScalarTraits<Dual<T>> {
  using Tr = ScalarTraits<T>;
  using D = Dual<T>;
  static constexpr const char* name = "dual";
  static constexpr bool exact = false;
  static constexpr bool rigorous = false;  // not a RigorousScalar: claims judge T, not Dual<T>
  static constexpr bool has_exp = Tr::has_exp;
  static D from_rational(const Rational& q) { return D(Tr::from_rational(q)); }
  static D exp(const D& x) {
    D r(Tr::exp(x.value));  // exp' = exp
    r.mid = Tr::exp(x.mid);
    r.dims = x.dims;
    r.offsets = x.offsets;
    for (int k = 0; k < x.dims; ++k) r.gradient[k] = r.value * x.gradient[k];
    return r.centre();
  }
  static Sign sign(const D& x) { return Tr::sign(x.value); }
  static D max(const D& a, const D& b) { return detail::select(a, b, true); }
  static D min(const D& a, const D& b) { return detail::select(a, b, false); }
  // A constant: the softmax shift cancels whatever it is (numerics/scalar.hpp).
  static D shift_point(const D& x) { return D(Tr::shift_point(x.value)); }
  static double to_double(const D& x) { return Tr::to_double(x.value); }
  static std::string to_string(const D& x) { return Tr::to_string(x.value); }

  // w = softmax(s), w_i' = w_i (s_i' - c'), c' = sum_k w_k s_k' (a convex combination
  // at every point, so also in the hull of the s_k').
  static std::vector<D> softmax(std::span<const D> scores) {
    std::vector<T> values, mids;
    values.reserve(scores.size());
    mids.reserve(scores.size());
    int dims = 0;
    const typename D::Offsets* offsets = nullptr;
    for (const D& s : scores) {
      values.push_back(s.value);
      mids.push_back(s.mid);
      dims = std::max(dims, s.dims);
      if (!offsets) offsets = s.offsets;
    }
    const std::vector<T> w = softmax_weights<T>(std::span<const T>(values));
    const std::vector<T> w_mid = softmax_weights<T>(std::span<const T>(mids));
    std::vector<D> out;
    out.reserve(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      out.emplace_back(w[i]);
      out.back().mid = w_mid[i];
      out.back().offsets = offsets;
    }
    for (int k = 0; k < dims; ++k) {
      T c = from_int<T>(0), hull = scores[0].gradient[k];
      for (std::size_t i = 0; i < w.size(); ++i) {
        c += w[i] * scores[i].gradient[k];
        hull = Tr::hull(hull, scores[i].gradient[k]);
      }
      c = Tr::intersect(c, hull);
      for (std::size_t i = 0; i < w.size(); ++i) {
        out[i].gradient[k] = w[i] * (scores[i].gradient[k] - c);
        out[i].dims = dims;
      }
    }
    for (D& wi : out) wi.centre();
    return out;
  }
};

}  // namespace iclcert
