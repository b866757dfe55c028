// A rigorous interval scalar for the batch kernel: Iv = [lo, hi] with double
// endpoints, every operation rounded outward, for the CPU and the CUDA device
// from this one source (theory/interval_kernel.md).
//
// Contract (Arb's, in inf-sup form): for every operation op and all real points
// a in A, b in B, the exact real op(a, b) lies in the computed op(A, B).
// Endpoints may be infinite: lo is in [-inf, DBL_MAX] and hi in [-DBL_MAX, +inf]
// (an overflowed bound becomes the largest finite double on the inner side, never
// an infinity there), so the sums and differences of endpoints never form
// inf - inf. A NaN endpoint can only come from a NaN input; it makes every
// certain comparison below false (undecided), never true.
//
// Trusted:
//  * IEEE 754 binary64 + - * / correctly rounded, with gradual underflow (no
//    flush-to-zero, no denormals-are-zero: the host must not be built with
//    -ffast-math; the test checks it) and round-to-nearest as the host's mode;
//  * on the device, CUDA's directed-rounding intrinsics __dadd_rd/_ru,
//    __dmul_rd/_ru, __ddiv_rd/_ru (IEEE-rounded in the named direction; double
//    arithmetic on NVIDIA GPUs has no flush-to-zero);
//  * on the host, that RN(x) is a nearest double to the exact x, so that
//    next_down(RN(x)) <= x <= next_up(RN(x)) (the argument is in
//    theory/interval_kernel.md, "Rounding on the CPU");
//  * the exp enclosure's proof (below and theory/interval_kernel.md): the Taylor
//    remainder bound and the enclosure of ln 2.
// Nothing here calls libm: exp is our own polynomial with a proved bound.
#pragma once

#include <cstdint>
#include <cstring>

#include "gpu/hd.hpp"

namespace iclcert::gpu {

struct Iv {
  double lo, hi;
};

// Planted faults, for the tests that prove the soundness tests can fail; bits
// that combine. Only kNoFault is ever used outside tests.
enum IvFault : int {
  kNoFault = 0,
  kFaultNearest = 1,          // round to nearest, without the outward step (or the lane exp's widening)
  kFaultHalfExpBound = 2,     // exp's Taylor remainder bound cut in half
  kFaultNoMidpointError = 4,  // midpoint-radius products without the midpoint's rounding error (interval_attention.hpp)
  kFaultNoRadiusFactor = 8,   // midpoint-radius products without the radius sum's rounding factor
};

// Every function of the interval tier (this header, interval_attention.hpp and
// interval_certify.hpp) lives in the inline namespace ICLCERT_IV_ISA_NS. The host
// compiles certify_prompt once per x86-64 level (gpu/certify_host_*.cpp, each with
// its own -march and its own name here), and distinct names keep the linker from
// handing one level's copy of an inline function to another level's callers.
// Types (Iv, IntervalVerdict, ...) stay outside: they cross those files.
#ifndef ICLCERT_IV_ISA_NS
#define ICLCERT_IV_ISA_NS isa_default
#endif
inline namespace ICLCERT_IV_ISA_NS {

namespace iv_detail {

inline constexpr double kInf = __builtin_huge_val();
inline constexpr double kMaxDouble = 1.7976931348623157e308;
inline constexpr double kMinNormal = 2.2250738585072014e-308;
inline constexpr double kDenormMin = 4.9406564584124654e-324;

ICLCERT_HD inline double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
ICLCERT_HD inline std::uint64_t to_bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// The next double above x (+inf and NaN stay; both zeros go to the smallest
// subnormal; -inf goes to -DBL_MAX). next_down is its mirror image.
ICLCERT_HD inline double next_up(double x) {
  if (!(x < kInf)) return x;
  if (x == 0) return kDenormMin;
  const std::uint64_t b = to_bits(x);
  return from_bits(x > 0 ? b + 1 : b - 1);
}
ICLCERT_HD inline double next_down(double x) { return -next_up(-x); }

// Directed roundings of one operation. Device: the hardware's directed modes.
// Host: round to nearest, then one step outward (sound by the RN argument above;
// it may lose one ulp where the operation was exact). The fault kFaultNearest
// drops the outward step.
#ifdef __CUDA_ARCH__
#define ICLCERT_IV_OP(name, op, rd, ru)                                                 \
  template <int F>                                                                      \
  __device__ inline double name##_dn(double a, double b) {                              \
    if constexpr ((F & kFaultNearest) != 0) return a op b;                                    \
    else return rd(a, b);                                                               \
  }                                                                                     \
  template <int F>                                                                      \
  __device__ inline double name##_up(double a, double b) {                              \
    if constexpr ((F & kFaultNearest) != 0) return a op b;                                    \
    else return ru(a, b);                                                               \
  }
ICLCERT_IV_OP(add, +, __dadd_rd, __dadd_ru)
ICLCERT_IV_OP(mul, *, __dmul_rd, __dmul_ru)
ICLCERT_IV_OP(div, /, __ddiv_rd, __ddiv_ru)
#undef ICLCERT_IV_OP
#else
#define ICLCERT_IV_OP(name, op)                                                         \
  template <int F>                                                                      \
  inline double name##_dn(double a, double b) {                                         \
    const double r = a op b;                                                            \
    if constexpr ((F & kFaultNearest) != 0) return r;                                         \
    else return next_down(r);                                                           \
  }                                                                                     \
  template <int F>                                                                      \
  inline double name##_up(double a, double b) {                                         \
    const double r = a op b;                                                            \
    if constexpr ((F & kFaultNearest) != 0) return r;                                         \
    else return next_up(r);                                                             \
  }
ICLCERT_IV_OP(add, +)
ICLCERT_IV_OP(mul, *)
ICLCERT_IV_OP(div, /)
#undef ICLCERT_IV_OP
#endif
template <int F>
ICLCERT_HD inline double sub_dn(double a, double b) {
  return add_dn<F>(a, -b);
}
template <int F>
ICLCERT_HD inline double sub_up(double a, double b) {
  return add_up<F>(a, -b);
}

// Products where 0 times an infinite endpoint counts as 0: the points of an
// interval are real numbers, and 0 times any of them is 0.
template <int F>
ICLCERT_HD inline double mul0_dn(double a, double b) {
  return a == 0 || b == 0 ? 0.0 : mul_dn<F>(a, b);
}
template <int F>
ICLCERT_HD inline double mul0_up(double a, double b) {
  return a == 0 || b == 0 ? 0.0 : mul_up<F>(a, b);
}

ICLCERT_HD inline double min2(double a, double b) { return b < a ? b : a; }
ICLCERT_HD inline double max2(double a, double b) { return b > a ? b : a; }

// 2^k for -1022 <= k <= 1023 (a normal double).
ICLCERT_HD inline double pow2(int k) { return from_bits(static_cast<std::uint64_t>(k + 1023) << 52); }

// ---- The exp enclosure's constants (theory/interval_kernel.md, "exp").
// ln 2 = kLn2Hi + c2 with kLn2Hi = 0x1.62e42feep-1 (33 significant bits: n kLn2Hi
// is exact for |n| < 2^20) and c2 in [kLn2LoDn, kLn2LoUp] (adjacent doubles; the
// test checks the enclosure against Arb's ln 2 at 256 bits).
inline constexpr double kLn2Hi = 0.6931471803691238;  // 0x1.62e42fee00000p-1
inline constexpr double kLn2LoDn = 1.9082149292705877e-10;
inline constexpr double kLn2LoUp = 1.908214929270588e-10;
inline constexpr double kLog2e = 1.4426950408889634;
// |r| <= kRho after the reduction: ln(2)/2 = 0.34657... plus the rounding of
// n = round(x / ln 2), far below 89/256 - ln(2)/2 = 0.0011 (checked at run time).
inline constexpr double kRho = 0.34765625;  // 89/256
inline constexpr double kExpRhoUp = 1.4158;   // >= e^(89/256) = 1.415745...
// Beyond these arguments exp leaves the doubles: ln(DBL_MAX) = 709.7827... and
// ln(2^-1074) = -744.4400...
inline constexpr double kOverflowArg = 709.79, kUnderflowArg = -745.2;

// 1/k! for k = 0..17 as [down, up] (adjacent doubles, or exact; the test checks
// each exactly). A switch, not a table: the device cannot read a host-side
// constant array, and with k known after unrolling it folds to constants.
ICLCERT_HD inline Iv inv_factorial(int k) {
  switch (k) {
    case 0: return {1.0, 1.0};
    case 1: return {1.0, 1.0};
    case 2: return {0.5, 0.5};
    case 3: return {0.16666666666666666, 0.16666666666666669};
    case 4: return {0.041666666666666664, 0.04166666666666667};
    case 5: return {0.008333333333333333, 0.008333333333333335};
    case 6: return {0.0013888888888888887, 0.001388888888888889};
    case 7: return {0.0001984126984126984, 0.00019841269841269844};
    case 8: return {2.48015873015873e-05, 2.4801587301587305e-05};
    case 9: return {2.755731922398589e-06, 2.7557319223985893e-06};
    case 10: return {2.755731922398589e-07, 2.7557319223985894e-07};
    case 11: return {2.5052108385441717e-08, 2.505210838544172e-08};
    case 12: return {2.0876756987868096e-09, 2.08767569878681e-09};
    case 13: return {1.6059043836821613e-10, 1.6059043836821616e-10};
    case 14: return {1.1470745597729725e-11, 1.1470745597729726e-11};
    case 15: return {7.647163731819816e-13, 7.647163731819817e-13};
    case 16: return {4.779477332387385e-14, 4.779477332387386e-14};
    case 17: return {2.8114572543455206e-15, 2.811457254345521e-15};
    default: return {0, 1};  // never asked (static_assert in exp_remainder_bound)
  }
}

// An upper bound of the Lagrange remainder of the degree-K Taylor polynomial of
// exp on |r| <= kRho: e^rho rho^(K+1) / (K+1)!. Evaluated in round-to-nearest at
// compile time: 2(K+1) operations on positive normal numbers, each within a
// relative 2^-53, so the product is at least (1 - 2^-46) times the exact value
// (K <= 17), and the final factor (1 + 2^-40), itself rounded, more than makes
// up for it. (The test compares it with the exact rational.)
// exp_rho_up >= e^rho; the lane exp (interval_attention.hpp) uses it at its own rho.
template <int K>
constexpr double exp_remainder_bound_at(double rho, double exp_rho_up) {
  static_assert(K >= 2 && K <= 17, "degree 2..17 (the table of 1/k! and the 2^-46 argument)");
  double v = exp_rho_up;
  for (int k = 1; k <= K + 1; ++k) v = v * rho / k;
  return v * (1 + 0x1p-40);
}
template <int K>
constexpr double exp_remainder_bound() {
  return exp_remainder_bound_at<K>(kRho, kExpRhoUp);
}

}  // namespace iv_detail

// The interval operations, with a planted fault F for the tests (kNoFault: the
// real ones). Iv's operators below are IvArith<kNoFault>.
template <int F = kNoFault>
struct IvArith {
  static constexpr int kExpDegree = 13;
  static constexpr int kFault = F;

  ICLCERT_HD static Iv point(double x) { return {x, x}; }  // exact
  ICLCERT_HD static Iv neg(Iv a) { return {-a.hi, -a.lo}; }  // exact
  ICLCERT_HD static Iv add(Iv a, Iv b) { return {iv_detail::add_dn<F>(a.lo, b.lo), iv_detail::add_up<F>(a.hi, b.hi)}; }
  ICLCERT_HD static Iv sub(Iv a, Iv b) { return {iv_detail::sub_dn<F>(a.lo, b.hi), iv_detail::sub_up<F>(a.hi, b.lo)}; }

  ICLCERT_HD static Iv mul(Iv a, Iv b) {
    using namespace iv_detail;
#ifdef __CUDA_ARCH__
    const double l1 = mul_dn<F>(a.lo, b.lo), l2 = mul_dn<F>(a.lo, b.hi), l3 = mul_dn<F>(a.hi, b.lo),
                 l4 = mul_dn<F>(a.hi, b.hi);
    const double h1 = mul_up<F>(a.lo, b.lo), h2 = mul_up<F>(a.lo, b.hi), h3 = mul_up<F>(a.hi, b.lo),
                 h4 = mul_up<F>(a.hi, b.hi);
    const double check = l1 + l2 + l3 + l4 + h1 + h2 + h3 + h4;
    if (check == check) return {min2(min2(l1, l2), min2(l3, l4)), max2(max2(h1, h2), max2(h3, h4))};
#else
    // The four products to nearest; the extreme ones, stepped outward, bound the
    // exact extremes (next_down and next_up are monotone).
    const double p1 = a.lo * b.lo, p2 = a.lo * b.hi, p3 = a.hi * b.lo, p4 = a.hi * b.hi;
    const double check = p1 + p2 + p3 + p4;
    if (check == check) {
      const double lo = min2(min2(p1, p2), min2(p3, p4)), hi = max2(max2(p1, p2), max2(p3, p4));
      if constexpr ((F & kFaultNearest) != 0) return {lo, hi};
      else return {next_down(lo), next_up(hi)};
    }
#endif
    // Rare: an infinite endpoint met a zero (0 * inf), an infinite sum, or a NaN input.
    if (a.lo != a.lo || a.hi != a.hi || b.lo != b.lo || b.hi != b.hi) return {a.lo + b.lo, a.hi + b.hi};  // NaN
    return {min2(min2(mul0_dn<F>(a.lo, b.lo), mul0_dn<F>(a.lo, b.hi)), min2(mul0_dn<F>(a.hi, b.lo), mul0_dn<F>(a.hi, b.hi))),
            max2(max2(mul0_up<F>(a.lo, b.lo), mul0_up<F>(a.lo, b.hi)), max2(mul0_up<F>(a.hi, b.lo), mul0_up<F>(a.hi, b.hi)))};
  }

  // A divisor containing 0 gives the whole line [-inf, +inf].
  ICLCERT_HD static Iv div(Iv a, Iv b) {
    using namespace iv_detail;
    if (b.hi < 0) return div(neg(a), neg(b));
    if (!(b.lo > 0)) return {-kInf, kInf};
    if (a.lo >= 0) return {div_dn<F>(a.lo, b.hi), div_up<F>(a.hi, b.lo)};
    if (a.hi <= 0) return {div_dn<F>(a.lo, b.lo), div_up<F>(a.hi, b.hi)};
    return {div_dn<F>(a.lo, b.lo), div_up<F>(a.hi, b.lo)};
  }

  // The enclosure of {max(a, b)}: max is monotone in both arguments.
  ICLCERT_HD static Iv max(Iv a, Iv b) { return {iv_detail::max2(a.lo, b.lo), iv_detail::max2(a.hi, b.hi)}; }

  // exp is increasing. One reduction for the whole interval when both ends share
  // n (always, for the narrow intervals of the softmax); else each end on its own.
  template <int K = kExpDegree>
  ICLCERT_HD static Iv exp(Iv x) {
    using namespace iv_detail;
    if (!(x.lo >= kUnderflowArg && x.hi <= kOverflowArg)) {  // out of range, or NaN
      if (x.lo == x.hi || x.lo != x.lo || x.hi != x.hi) return exp_outside(x.lo);
      return {exp_outside_or_point<K>(x.lo).lo, exp_outside_or_point<K>(x.hi).hi};
    }
    const double n = nearest_integer((0.5 * x.lo + 0.5 * x.hi) * kLog2e);  // |n| <= 1076
    const Iv r = reduce(x, n);
    if (!(r.lo >= -kRho && r.hi <= kRho)) {  // a wide x: each end with its own n
      if (x.lo == x.hi) return {0, kInf};    // never (the proof in theory/); still sound
      return {exp<K>(Iv{x.lo, x.lo}).lo, exp<K>(Iv{x.hi, x.hi}).hi};
    }
    return scale(exp_reduced<K>(r), n);
  }
  template <int K = kExpDegree>
  ICLCERT_HD static Iv exp_point(double x) {
    return exp<K>(Iv{x, x});
  }

  // An enclosure of exp(x) for x in X (theory/interval_kernel.md, "exp"):
  //   n = round(mid(X) / ln 2) (any integer is sound; this one makes |r| small),
  //   r = x - n ln 2 enclosed in R (n kLn2Hi exact, then outward operations), R
  //     within [-rho, rho] (checked),
  //   for s in [0, rho]: exp(s) in [P_K(s), P_K(s) + E], P_K the Taylor polynomial
  //     of degree K (positive coefficients: the interval Horner scheme on
  //     nonnegative intervals is exact up to its outward rounding), E =
  //     exp_remainder_bound<K>() (Lagrange: the remainder is e^xi s^(K+1)/(K+1)!
  //     with 0 <= xi <= s <= rho);
  //   for r <= 0, exp(r) = 1 / exp(-r); exp(x) = 2^n exp(r), the scaling exact
  //     unless it leaves the normal range, where it rounds outward.
  // Beyond the doubles' range: [DBL_MAX, inf] above 709.79, [0, 2^-1074] below -745.2.

  ICLCERT_HD static double nearest_integer(double t) {  // |t| < 2^51
    return (t + 6755399441055744.0) - 6755399441055744.0;
  }
  ICLCERT_HD static Iv reduce(Iv x, double n) {
    using namespace iv_detail;
    const double n_hi = n * kLn2Hi;  // exact: 11 + 33 significant bits
    const Iv c = mul(point(n), Iv{kLn2LoDn, kLn2LoUp});
    return sub(sub(x, point(n_hi)), c);
  }
  // P_K over S = [s_lo, s_hi] within [0, rho], plus [0, E] for the remainder.
  template <int K>
  ICLCERT_HD static Iv exp_nonnegative(Iv S) {
    using namespace iv_detail;
    Iv p = inv_factorial(K);
#if defined(__CUDACC__)
#pragma unroll
#elif defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 20
#endif
    for (int k = K - 1; k >= 0; --k) {
      const Iv c = inv_factorial(k);
      p = {add_dn<F>(mul_dn<F>(p.lo, S.lo), c.lo), add_up<F>(mul_up<F>(p.hi, S.hi), c.hi)};
    }
    constexpr double e = (F & kFaultHalfExpBound) != 0 ? exp_remainder_bound<K>() / 2 : exp_remainder_bound<K>();
    return {p.lo, add_up<F>(p.hi, e)};
  }
  // exp over R within [-rho, rho].
  template <int K>
  ICLCERT_HD static Iv exp_reduced(Iv R) {
    using namespace iv_detail;
    if (R.lo >= 0) return exp_nonnegative<K>(R);
    const Iv one{1, 1};
    if (R.hi <= 0) return div(one, exp_nonnegative<K>(Iv{-R.hi, -R.lo}));  // exp(r) = 1 / exp(-r)
    // R meets 0 (a tiny interval around it): exp(lo) >= 1 / exp(|lo|), exp(hi) <= exp(hi).
    const Iv u = exp_nonnegative<K>(Iv{0, max2(-R.lo, R.hi)});
    return {div(one, u).lo, u.hi};
  }
  // p 2^n: p lies in [0.7, 1.5], so p 2^n1 is normal and exact; the second
  // product is exact when normal and finite, else it rounds outward.
  ICLCERT_HD static Iv scale(Iv p, double n) {
    using namespace iv_detail;
    const int ni = static_cast<int>(n), n1 = ni / 2, n2 = ni - n1;
    const double s1 = pow2(n1), s2 = pow2(n2);
    double lo = (p.lo * s1) * s2, hi = (p.hi * s1) * s2;
    if constexpr ((F & kFaultNearest) == 0) {
      if (!(lo >= kMinNormal && lo <= kMaxDouble)) lo = next_down(lo);
      if (!(hi >= kMinNormal && hi <= kMaxDouble)) hi = next_up(hi);
    }
    return {max2(lo, 0.0), hi};  // exp > 0
  }
  // exp of a point beyond the doubles' range (or NaN).
  ICLCERT_HD static Iv exp_outside(double x) {
    using namespace iv_detail;
    if (x > kOverflowArg) return {kMaxDouble, kInf};
    if (x < kUnderflowArg) return {0, kDenormMin};
    return {0, kInf};  // NaN: any exp lies there
  }
  template <int K>
  ICLCERT_HD static Iv exp_outside_or_point(double x) {
    using namespace iv_detail;
    if (x >= kUnderflowArg && x <= kOverflowArg) return exp<K>(Iv{x, x});
    return exp_outside(x);
  }
};

ICLCERT_HD inline Iv operator+(Iv a, Iv b) { return IvArith<>::add(a, b); }
ICLCERT_HD inline Iv operator-(Iv a, Iv b) { return IvArith<>::sub(a, b); }
ICLCERT_HD inline Iv operator*(Iv a, Iv b) { return IvArith<>::mul(a, b); }
ICLCERT_HD inline Iv operator/(Iv a, Iv b) { return IvArith<>::div(a, b); }
ICLCERT_HD inline Iv operator-(Iv a) { return IvArith<>::neg(a); }
ICLCERT_HD inline Iv iv_point(double x) { return {x, x}; }
ICLCERT_HD inline Iv iv_max(Iv a, Iv b) { return IvArith<>::max(a, b); }
ICLCERT_HD inline Iv iv_exp(Iv x) { return IvArith<>::exp(x); }

// Certain comparisons: true is a proof about every point; false means "not
// certain" (NaN endpoints give false).
ICLCERT_HD inline bool certainly_positive(Iv a) { return a.lo > 0; }
ICLCERT_HD inline bool certainly_negative(Iv a) { return a.hi < 0; }
ICLCERT_HD inline bool iv_contains(Iv a, double x) { return a.lo <= x && x <= a.hi; }
ICLCERT_HD inline double iv_mid(Iv a) { return 0.5 * a.lo + 0.5 * a.hi; }  // a point, no overflow

}  // inline namespace ICLCERT_IV_ISA_NS
}  // namespace iclcert::gpu
