// Taylor models over a box's coordinates, of order 1 (affine forms with an
// interval remainder, Affine<T>) or 2 (Taylor2<T>): TaylorForm<T, Order> is a
// Scalar, so the one templated recursion (numerics/recursion.hpp) runs on it
// unchanged, like Dual<T>. Soundness argument: theory/affine_forms.md.
//
// What is enclosed. Write the box X = m + diag(h) E, E = [-1, 1]^n (n <= 4: R1's
// boxed coefficients). A form f stands for a function f(e) of e in E with
//
//   f(e)  in  P(e) + R     for every e in E,
//
// P a polynomial of degree <= Order in e whose coefficients are enclosures of T
// (rigorous: ArbBall, MpfiInterval), read with T's arithmetic at the point e (the
// set of P'(e) + r over polynomials P' with coefficients in P's, r in R).
// Coordinate k is seeded as `variable(m_k, h_k, k)`, f = m_k + h_k e_k, and every
// other input as a constant. Each operation maps forms of its operands to a form of
// its result by an identity that holds at every e, with every term of higher degree
// moved into the remainder R by its range over E, enclosed with T's operations
// (which enclose their exact results for any points of their operands). So, by
// induction over the operations, every quantity the recursion computes is enclosed
// at every point of the box, and its range over the box in `range()`.
//
// Unlike the centred form (dual.hpp), which encloses a quantity from an enclosure
// of its gradient over the whole box, the polynomial part here is carried exactly
// (up to rounding): what a quantity owes to e_k is one coefficient all the way
// through the layers, so a later difference (M^{t+1} - M^t) cancels it.
//
// Operations: + - on coefficients. f g: the product's monomials of degree <= Order
// kept, the others and the products with R in the remainder. exp and 1/u: Taylor
// polynomials of degree Order at the midpoint u0 of the range U, with the Lagrange
// remainder exp(U) D^{Order+1} / (Order+1)! (D = U - u0), and the geometric
// series' exact tail for 1/u. max and min where the order is not certain:
// max(a, b) = b + relu(a - b), and relu(d) - lam d lies in
// [0, max((1 - lam) hi, -lam lo)] for d in [lo, hi], any lam in [0, 1] (the chord
// of DeepPoly/CROWN). A result of exp, 1/u, max or min whose remainder alone is as
// wide as the plain interval operation on the operands' ranges is replaced by that
// interval (a constant form): still an enclosure.
#pragma once

#include "numerics/attention.hpp"
#include "numerics/rigorous.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace iclcert {

inline constexpr int kMaxAffineDims = 4;  // beta, gamma, alpha, alpha_label

namespace affine_detail {

// Monomials e^x of degree <= kMaxDegree in kMaxAffineDims variables, by degree:
// 1, e_0..e_3, then e_j e_k for j <= k, then e_j e_k e_l for j <= k <= l, each
// degree in lexicographic order. Each is its exponent vector. The monomials of
// degree <= o are the first monomials_up_to(o) of the table.
using Exponents = std::array<int, kMaxAffineDims>;
inline constexpr int kMaxDegree = 3;
inline constexpr int monomials_up_to(int order) {  // C(kMaxAffineDims + order, order)
  int n = 1;
  for (int i = 1; i <= order; ++i) n = n * (kMaxAffineDims + i) / i;
  return n;
}
inline constexpr int kMonomials = monomials_up_to(kMaxDegree);

inline const std::array<Exponents, kMonomials>& monomials() {
  static const std::array<Exponents, kMonomials> table = [] {
    std::array<Exponents, kMonomials> t{};
    int i = 1;
    for (int k = 0; k < kMaxAffineDims; ++k) t[i++][k] = 1;
    for (int j = 0; j < kMaxAffineDims; ++j)
      for (int k = j; k < kMaxAffineDims; ++k) ++t[i][j], ++t[i++][k];
    for (int j = 0; j < kMaxAffineDims; ++j)
      for (int k = j; k < kMaxAffineDims; ++k)
        for (int l = k; l < kMaxAffineDims; ++l) ++t[i][j], ++t[i][k], ++t[i++][l];
    return t;
  }();
  return table;
}
inline int degree(const Exponents& x) {
  int d = 0;
  for (int v : x) d += v;
  return d;
}
// The index of a monomial of degree <= kMaxDegree.
inline int index_of(const Exponents& x) {
  const auto& t = monomials();
  for (int i = 0; i < kMonomials; ++i)
    if (t[i] == x) return i;
  return -1;
}
// The monomials of degree <= order in the first `dims` variables, in table order.
inline const std::vector<int>& active(int dims, int order) {
  static const auto lists = [] {
    std::array<std::array<std::vector<int>, kMaxDegree + 1>, kMaxAffineDims + 1> l;
    for (int n = 0; n <= kMaxAffineDims; ++n)
      for (int o = 0; o <= kMaxDegree; ++o)
        for (int i = 0; i < kMonomials; ++i) {
          bool inside = degree(monomials()[i]) <= o;
          for (int k = n; k < kMaxAffineDims; ++k) inside = inside && monomials()[i][k] == 0;
          if (inside) l[n][o].push_back(i);
        }
    return l;
  }();
  return lists[dims][order];
}
// Products of two monomials: the index of the product where its degree is <=
// kMaxDegree, else -1; its degree; and whether every exponent is even (its range
// over E is then [0, 1], else [-1, 1]).
struct Product {
  int index, degree;
  bool even;
};
inline const Product& product(int a, int b) {
  static const auto table = [] {
    std::array<std::array<Product, kMonomials>, kMonomials> t{};
    for (int i = 0; i < kMonomials; ++i)
      for (int j = 0; j < kMonomials; ++j) {
        Exponents x{};
        bool even = true;
        for (int k = 0; k < kMaxAffineDims; ++k) {
          x[k] = monomials()[i][k] + monomials()[j][k];
          even = even && x[k] % 2 == 0;
        }
        const int d = degree(x);
        t[i][j] = {d <= kMaxDegree ? index_of(x) : -1, d, even};
      }
    return t;
  }();
  return table[a][b];
}

}  // namespace affine_detail

// Order 1: affine forms with a remainder; order 2: second-order Taylor models
// (quadratic terms carried, the remainder O(h^3)); order 3: cubic terms carried,
// the remainder O(h^4).
template <RigorousScalar T, int Order>
struct TaylorForm {
  static_assert(Order >= 1 && Order <= affine_detail::kMaxDegree, "TaylorForm: order 1, 2 or 3");
  static constexpr int kTerms = affine_detail::monomials_up_to(Order);
  std::array<T, kTerms> coef{};  // coef[0] = c, then the monomials' coefficients; 0 beyond dims
  int dims = 0;
  T rem{};                // R (any interval)
  bool exact_rem = true;  // R is exactly {0} (skips its products)

  // T{} is exactly 0 (as Dual<T> also assumes).
  TaylorForm() = default;
  explicit TaylorForm(T c) { coef[0] = std::move(c); }
  // A constant known only to lie in `enclosure` (its width goes to R).
  static TaylorForm of_interval(const T& enclosure) {
    using Tr = ScalarTraits<T>;
    TaylorForm f(Tr::shift_point(enclosure));
    f.rem = enclosure - f.coef[0];
    f.exact_rem = false;
    return f;
  }
  // Coordinate k of the box: mid + half e_k.
  static TaylorForm variable(T mid, T half, int k) {
    TaylorForm f(std::move(mid));
    f.coef[static_cast<std::size_t>(1 + k)] = std::move(half);
    f.dims = k + 1;
    return f;
  }
  const T& centre() const { return coef[0]; }
  const T& linear(int k) const { return coef[static_cast<std::size_t>(1 + k)]; }

  // [-1, 1] and [0, 1], exact at any precision: made once.
  static const T& unit() {
    static const T u = ScalarTraits<T>::hull(from_int<T>(-1), from_int<T>(1));
    return u;
  }
  static const T& half_unit() {
    static const T u = ScalarTraits<T>::hull(from_int<T>(0), from_int<T>(1));
    return u;
  }

  // An enclosure of the non-constant part over the box (without R).
  T polynomial_tail() const {
    T s{};
    const auto& terms = affine_detail::active(dims, Order);
    for (std::size_t i = 1; i < terms.size(); ++i) {
      const int m = terms[i];
      s += coef[m] * (affine_detail::product(0, m).even ? half_unit() : unit());
    }
    return s;
  }
  // An enclosure of f over the whole box.
  T range() const {
    T r = coef[0];
    if (dims > 0) r += polynomial_tail();
    if (!exact_rem) r += rem;
    return r;
  }

  // An enclosure of dP/de_k over E (P the polynomial part; R has no derivative):
  // each monomial e^x with x_k > 0 differentiates to x_k e^(x - 1_k), whose range
  // over E is [0, 1] where every exponent left is even, else [-1, 1].
  T slope(int k) const {
    T g = linear(k);
    for (int m : affine_detail::active(dims, Order)) {
      auto x = affine_detail::monomials()[static_cast<std::size_t>(m)];
      const auto uk = static_cast<std::size_t>(k);
      if (affine_detail::degree(x) < 2 || x[uk] == 0) continue;
      const int power = x[uk]--;
      bool even = true;
      for (int v : x) even = even && v % 2 == 0;
      g += coef[static_cast<std::size_t>(m)] * from_int<T>(power) * (even ? half_unit() : unit());
    }
    return g;
  }
  // P on the face of E where e_k = fixed[k] for fixed[k] = -1 or 1 (0: e_k free).
  TaylorForm on_face(const affine_detail::Exponents& fixed) const {
    TaylorForm out;
    out.dims = dims;
    for (int m : affine_detail::active(dims, Order)) {
      affine_detail::Exponents y = affine_detail::monomials()[static_cast<std::size_t>(m)];
      int sign = 1;
      for (std::size_t k = 0; k < y.size(); ++k)
        if (fixed[k] != 0) {
          if (y[k] % 2 == 1) sign *= fixed[k];
          y[k] = 0;
        }
      const auto i = static_cast<std::size_t>(affine_detail::index_of(y));
      out.coef[i] += sign > 0 ? coef[static_cast<std::size_t>(m)] : -coef[static_cast<std::size_t>(m)];
    }
    return out;
  }
  // range(), sharpened by the monotonicity test on P: where dP/de_k has one sign
  // over E, P's least value over E lies on the face e_k = -1 (P grows) or +1 (P
  // falls), its greatest on the other. So for every e in E,
  //   f(e) in [lower(P on the least face), upper(P on the greatest face)] + R,
  // each face bounded like range() but in the coordinates left free. (The test is
  // on P, which the form carries exactly, not on f, whose derivative R does not
  // bound: it tightens the range of P only, theory/affine_forms.md.)
  T monotone_range() const {
    using Tr = ScalarTraits<T>;
    affine_detail::Exponents least{}, greatest{};
    bool any = false;
    for (int k = 0; k < dims; ++k) {
      const T g = slope(k);
      const bool grows = certainly_nonnegative(g), falls = certainly_nonpositive(g);
      if (!grows && !falls) continue;
      least[static_cast<std::size_t>(k)] = grows ? -1 : 1;
      greatest[static_cast<std::size_t>(k)] = -least[static_cast<std::size_t>(k)];
      any = true;
    }
    const T whole = range();
    if (!any) return whole;
    const TaylorForm low = on_face(least), high = on_face(greatest);
    T p = Tr::hull(low.coef[0] + low.polynomial_tail(), high.coef[0] + high.polynomial_tail());
    if (!exact_rem) p += rem;
    return Tr::intersect(whole, p);
  }

  TaylorForm& operator+=(const TaylorForm& b) {
    for (int m : affine_detail::active(b.dims, Order)) coef[m] += b.coef[m];
    dims = std::max(dims, b.dims);
    if (!b.exact_rem) put_rem(b.rem);
    return *this;
  }
  TaylorForm& operator-=(const TaylorForm& b) {
    for (int m : affine_detail::active(b.dims, Order)) coef[m] -= b.coef[m];
    dims = std::max(dims, b.dims);
    if (!b.exact_rem) {
      rem = exact_rem ? -b.rem : rem - b.rem;
      exact_rem = false;
    }
    return *this;
  }
  TaylorForm& operator*=(const TaylorForm& b) { return *this = multiply(*this, b); }
  TaylorForm& operator/=(const TaylorForm& b) { return *this = multiply(*this, reciprocal(b)); }
  friend TaylorForm operator+(TaylorForm a, const TaylorForm& b) { return a += b; }
  friend TaylorForm operator-(TaylorForm a, const TaylorForm& b) { return a -= b; }
  friend TaylorForm operator*(const TaylorForm& a, const TaylorForm& b) { return multiply(a, b); }
  friend TaylorForm operator/(const TaylorForm& a, const TaylorForm& b) { return multiply(a, reciprocal(b)); }
  friend TaylorForm operator-(const TaylorForm& a) {
    TaylorForm r = a;
    for (int m : affine_detail::active(a.dims, Order)) r.coef[m] = -a.coef[m];
    r.rem = -a.rem;
    return r;
  }

  // (P + R)(P' + R') = [P P' up to degree Order] + [P P' beyond, each monomial's
  // range] + P R' + R P' + R R'.
  static TaylorForm multiply(const TaylorForm& a, const TaylorForm& b) {
    TaylorForm r;
    r.dims = std::max(a.dims, b.dims);
    r.add_low_product(a, b);
    T high{};
    bool has_high = false;
    for (int i : affine_detail::active(a.dims, Order))
      for (int j : affine_detail::active(b.dims, Order)) {
        const auto& pr = affine_detail::product(i, j);
        if (pr.degree <= Order) continue;
        high += a.coef[i] * b.coef[j] * (pr.even ? half_unit() : unit());
        has_high = true;
      }
    if (has_high) r.put_rem(high);
    if (!b.exact_rem) r.put_rem(a.range() * b.rem);
    if (!a.exact_rem) r.put_rem(b.dims > 0 ? a.rem * (b.coef[0] + b.polynomial_tail()) : a.rem * b.coef[0]);
    return r;
  }

  // sum_{i <= Order} y_i d^i with d = x - u0 (a form): the Taylor polynomial at u0.
  static TaylorForm polynomial_at(const TaylorForm& x, const T& u0, const std::array<T, Order + 1>& y) {
    TaylorForm d = x;
    d.coef[0] -= u0;
    TaylorForm r(y[0]), power = d;
    for (int i = 1; i <= Order; ++i) {
      r += multiply(TaylorForm(y[static_cast<std::size_t>(i)]), power);
      if (i < Order) power = multiply(power, d);
    }
    return r;
  }

  // 1/u = sum_{i <= Order} (-d)^i / u0^{i+1} + (-d)^{Order+1} / (u0^{Order+1} u),
  // d = u - u0, u0 the midpoint of the range U (a geometric series, exact).
  static TaylorForm reciprocal(const TaylorForm& b) {
    using Tr = ScalarTraits<T>;
    const T U = b.range(), one = from_int<T>(1);
    const Sign s = Tr::sign(U);
    if (s != Sign::positive && s != Sign::negative) return TaylorForm(one / U);  // may vanish: T's own answer
    if (b.dims == 0 && b.exact_rem) return TaylorForm(one / b.coef[0]);
    const T u0 = Tr::shift_point(U), inv0 = one / u0;
    std::array<T, Order + 1> y;
    T p = inv0;  // (-1)^i / u0^{i+1}
    for (int i = 0; i <= Order; ++i, p *= -inv0) y[static_cast<std::size_t>(i)] = p;
    TaylorForm r = polynomial_at(b, u0, y);
    r.put_rem(power(U - u0, Order + 1) * (p * u0) / U);  // p = (-1)^{Order+1} / u0^{Order+2} here
    return r.clipped(one / U);
  }

  // exp(u) = sum_{i <= Order} e^u0 d^i / i! + e^xi d^{Order+1} / (Order+1)!, xi between u0 and u (in U).
  static TaylorForm exp(const TaylorForm& x) {
    using Tr = ScalarTraits<T>;
    if constexpr (!Tr::has_exp) {
      throw std::logic_error(std::string("exp requested in a Taylor form over ") + Tr::name + ", which has no exp");
    } else {
      return exp_of(x);
    }
  }
  static TaylorForm exp_of(const TaylorForm& x) {
    using Tr = ScalarTraits<T>;
    if (x.dims == 0 && x.exact_rem) return TaylorForm(Tr::exp(x.coef[0]));
    const T U = x.range();
    const T u0 = Tr::shift_point(U), e0 = Tr::exp(u0), whole = Tr::exp(U);
    std::array<T, Order + 1> y;
    T f = from_int<T>(1);  // i!
    for (int i = 0; i <= Order; ++i) {
      if (i > 0) f *= from_int<T>(i);
      y[static_cast<std::size_t>(i)] = e0 / f;
    }
    TaylorForm r = polynomial_at(x, u0, y);
    r.put_rem(whole * power(U - u0, Order + 1) / (f * from_int<T>(Order + 1)));
    return r.clipped(whole);
  }

  // max (take_max) or min of a and b.
  static TaylorForm select(const TaylorForm& a, const TaylorForm& b, bool take_max) {
    using Tr = ScalarTraits<T>;
    const TaylorForm d = a - b;
    const T D = d.range();
    const Sign s = Tr::sign(D);
    if (s == Sign::positive || s == Sign::zero) return take_max ? a : b;
    if (s == Sign::negative) return take_max ? b : a;
    const T plain = take_max ? Tr::max(a.range(), b.range()) : Tr::min(a.range(), b.range());
    if (!(Tr::width(D) < INFINITY)) return of_interval(plain);  // lower/upper throw on unbounded ends
    const double lo = nearest_double(Tr::lower(D)), hi = nearest_double(Tr::upper(D));
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < 0 && hi > 0)) return of_interval(plain);
    // relu(d) = lam d + r, r in [0, max((1 - lam) hi, -lam lo)], for any lam in [0, 1].
    const double lam_d = std::clamp(hi / (hi - lo), 0.0, 1.0);
    const T lam = from_rational<T>(rational_from_double(lam_d));
    const T bound = Tr::max((from_int<T>(1) - lam) * from_rational<T>(Tr::upper(D)), -lam * from_rational<T>(Tr::lower(D)));
    TaylorForm relu = multiply(TaylorForm(lam), d);
    relu.put_rem(Tr::hull(from_int<T>(0), bound));
    TaylorForm r = take_max ? b + relu : a - relu;  // min(a, b) = a - relu(a - b)
    return r.clipped(plain);
  }

  // x^n for x in X (n >= 1): X^n, clipped at 0 for even n (X X alone may dip below 0).
  static T power(const T& X, int n) {
    T p = X;
    for (int i = 1; i < n; ++i) p *= X;
    return n % 2 == 0 ? ScalarTraits<T>::max(p, from_int<T>(0)) : p;
  }

  // The form, or the constant `plain` (an enclosure of the same quantity) where the
  // form's remainder alone is as wide (its polynomial then no longer helps anywhere).
  TaylorForm clipped(const T& plain) const {
    using Tr = ScalarTraits<T>;
    return exact_rem || Tr::width(rem) < Tr::width(plain) ? *this : of_interval(plain);
  }

  // P += the terms of degree <= Order of P_a P_b (no remainder: multiply() adds
  // the rest; softmax_attend's c uses it alone). `dims` must cover a's and b's.
  void add_low_product(const TaylorForm& a, const TaylorForm& b) {
    for (int i : affine_detail::active(a.dims, Order))
      for (int j : affine_detail::active(b.dims, Order)) {
        const auto& pr = affine_detail::product(i, j);
        if (pr.degree <= Order)
          coef[static_cast<std::size_t>(pr.index)] += a.coef[static_cast<std::size_t>(i)] * b.coef[static_cast<std::size_t>(j)];
      }
  }

  // The polynomial part alone (another function of e).
  void drop_remainder() {
    rem = T{};
    exact_rem = true;
  }

  // R += x.
  void put_rem(const T& x) {
    rem = exact_rem ? x : rem + x;
    exact_rem = false;
  }
};

template <RigorousScalar T>
using Affine = TaylorForm<T, 1>;
template <RigorousScalar T>
using Taylor2 = TaylorForm<T, 2>;
template <RigorousScalar T>
using Taylor3 = TaylorForm<T, 3>;

template <RigorousScalar T, int Order>
struct ScalarTraits<TaylorForm<T, Order>> {
  using Tr = ScalarTraits<T>;
  using A = TaylorForm<T, Order>;
  static constexpr const char* name = Order == 1 ? "affine" : Order == 2 ? "taylor2" : "taylor3";
  static constexpr bool exact = false;
  static constexpr bool rigorous = false;  // not a RigorousScalar: claims judge range(), a T
  static constexpr bool has_exp = Tr::has_exp;
  static A from_rational(const Rational& q) { return A(Tr::from_rational(q)); }
  static A exp(const A& x) { return A::exp(x); }
  static Sign sign(const A& x) { return Tr::sign(x.range()); }
  static A max(const A& a, const A& b) { return A::select(a, b, true); }
  static A min(const A& a, const A& b) { return A::select(a, b, false); }
  // A constant: the softmax shift cancels whatever it is (numerics/scalar.hpp).
  static A shift_point(const A& x) { return A(Tr::shift_point(x.range())); }
  static double to_double(const A& x) { return Tr::to_double(x.range()); }
  static std::string to_string(const A& x) { return Tr::to_string(x.range()); }

  // e_i = exp(s_i - m) for each score, and 1/S, S = sum_i e_i, with m the
  // polynomial of a score near the largest, its remainder left out. The identity
  // exp(s_i - m) / S = softmax(s)_i holds for any m, also one that depends on the
  // box: with m a polynomial, the differences s_i - m keep only what the scores
  // do not share (their common dependence on the coefficients cancels), so exp
  // sees narrow arguments, and each carries s_i's remainder only.
  static A shifted_exps(std::span<const A> scores, std::vector<A>& e) {
    std::size_t top = 0;
    for (std::size_t i = 1; i < scores.size(); ++i)
      if (to_double(scores[i]) > to_double(scores[top])) top = i;
    A m = scores[top];
    m.drop_remainder();
    e.clear();
    e.reserve(scores.size());
    A sum = from_rational(Rational(0));
    for (const A& s : scores) {
      e.push_back(A::exp(s - m));
      sum += e.back();
    }
    return A::reciprocal(sum);
  }

  static std::vector<A> softmax(std::span<const A> scores) {
    std::vector<A> w;
    const A inv = shifted_exps(scores, w);
    for (A& v : w) v = A::multiply(v, inv);
    return w;
  }

  // One softmax row of attention: the weights w_i = e_i / S (shifted_exps) and
  // out_k = sum_i w_i v_ik, computed as
  //   out_k = c_k + (sum_i e_i (v_ik - c_k)) / S
  // for any function c_k of e (the identity needs only sum_i w_i = 1), here the
  // polynomial of sum_i w_i v_ik (degree <= Order). The numerator is then near 0,
  // so the remainder of 1/S, shared by every weight, barely enters (and few of
  // its products with 1/S fall into the remainder), and the remainders of the e_i
  // meet the values' spread around c_k instead of the values themselves: what the
  // true derivative d out / d s_i = w_i (v_i - out) does. Where the form's
  // remainder is wider than the hull of the values' ranges (coarse forms), that
  // hull is kept: the true out_k, a convex combination of the v_ik, lies in it.
  static void softmax_attend(std::span<const A> scores, const Matrix<A>& V, std::span<A> w, std::span<A> out) {
    std::vector<A> e;
    const A inv = shifted_exps(scores, e);
    for (std::size_t i = 0; i < scores.size(); ++i) w[i] = A::multiply(e[i], inv);
    for (std::size_t k = 0; k < out.size(); ++k) {
      // c: the polynomial of sum_i w_i v_ik, its terms of degree <= Order only
      // (c is any function of e: nothing is enclosed here).
      A c;
      for (std::size_t i = 0; i < w.size(); ++i) c.dims = std::max({c.dims, w[i].dims, V(i, k).dims});
      for (std::size_t i = 0; i < w.size(); ++i) c.add_low_product(w[i], V(i, k));
      A numerator = from_rational(Rational(0));
      for (std::size_t i = 0; i < w.size(); ++i) numerator += A::multiply(e[i], V(i, k) - c);
      A centred = c + A::multiply(numerator, inv);
      // The true out_k is a convex combination of the v_ik: within the hull of their ranges.
      T hull = V(0, k).range();
      for (std::size_t i = 1; i < w.size(); ++i) hull = Tr::hull(hull, V(i, k).range());
      out[k] = centred.clipped(hull);
    }
  }
};

}  // namespace iclcert
