// The prompt sampler's fast path (numerics/sampler.cpp, sample_prompt_doubles) as
// one __host__ __device__ source: the very same prompts, bit for bit, drawn with
// IEEE double + - * / sqrt and fma only (correctly rounded on the host and on the
// device alike), so a CUDA kernel can draw its prompts where it runs them.
//
// What it reproduces (margin 0, not balanced, 2 <= C <= 256, d >= 1, N >= 1):
//   - xoshiro256** seeded through splitmix64, uniforms (next() >> 11) * 2^-53;
//   - Marsaglia's polar normals, factor = sqrt((-2 log s) / s), where log s must be
//     the correctly rounded double (mpfr_log at 53 bits on the reference path);
//   - W (C x d) first, then the N points, then the probe; classes argmax <w_c, x>
//     with ties to the smallest index, decided as classify_fast decides them.
//
// What it trusts: + - * / sqrt fma rounded to nearest (IEEE 754), exact frexp,
// nextafter and fabs, and no contraction of a * b + c into an fma (the host is
// compiled with -ffp-contract=off, nvcc with --fmad=false; the products that feed
// a sum go through mul_rn, which is __dmul_rn on the device, so the device is
// safe even without the flag).
//
// Where it cannot decide, it says so instead of guessing: sample_prompt_hd returns
// false when a logarithm is too close to a rounding boundary for the proved error
// bound below, or when a rival class scores within the double scores' error
// bound. The caller then redoes that prompt with sample_prompt_doubles (which
// falls back to MPFR and to exact rationals). Tested against sample_prompt_doubles
// and mpfr_log in tests/gpu/sampler_hd_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/hd.hpp"

namespace iclcert::gpu {

namespace sampler_hd {

// ---- Rounded-to-nearest products and sums that no compiler fuses.
ICLCERT_HD inline double mul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;  // host: compiled without contraction (-ffp-contract=off / baseline ISA)
#endif
}

// ---- Double-word ("double-double") arithmetic. A DoubleWord (hi, lo) stands for
// hi + lo and is normalized: hi = RN(hi + lo), so |lo| <= u |hi| with u = 2^-53.
struct DoubleWord {
  double hi, lo;
};

// Knuth's TwoSum: s + e = a + b exactly.
ICLCERT_HD inline DoubleWord two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return {s, e};
}

// Dekker's FastTwoSum: exact when a = 0 or |a| >= |b| (exponent of a >= that of b).
ICLCERT_HD inline DoubleWord fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}

// p + e = a * b exactly (no underflow here: every product below is above 2^-300).
ICLCERT_HD inline DoubleWord two_prod(double a, double b) {
  const double p = mul_rn(a, b);
  return {p, fma(a, b, -p)};
}

// x * y. With P = |x.hi y.hi|: the dropped x.lo y.lo is <= u^2 P; RN(x.hi y.lo)
// errs by <= u^2 P; the fma summing x.lo y.hi to it by <= u (2u + u^2) P; the sum
// with the exact product's tail by <= u (u + (2 + u)(1 + u) u) P. Together
// <= (7 + 5u) u^2 P, and |x y| >= (1 - u)^2 P: relative error <= 8 u^2.
// FastTwoSum is exact: its second operand is below 4u times the first.
ICLCERT_HD inline DoubleWord dw_mul(DoubleWord x, DoubleWord y) {
  const DoubleWord p = two_prod(x.hi, y.hi);
  const double cross = fma(x.lo, y.hi, mul_rn(x.hi, y.lo));
  return fast_two_sum(p.hi, p.lo + cross);
}

// x + y. With S = |x.hi| + |y.hi|: RN(x.lo + y.lo) errs by <= u^2 S and the sum
// with TwoSum's tail by <= 2u^2 (1 + u) S: absolute error <= (3 + 2u) u^2 S. For
// operands of one sign |x + y| >= (1 - u) S: relative error <= 4 u^2.
// FastTwoSum is exact: hi = 0 (then all is 0) or its second operand is < 3u hi.
ICLCERT_HD inline DoubleWord dw_add(DoubleWord x, DoubleWord y) {
  const DoubleWord s = two_sum(x.hi, y.hi);
  return fast_two_sum(s.hi, s.lo + (x.lo + y.lo));
}

// 1 / (2k + 1) as normalized double words, k = 0..19: hi = RN(1/(2k+1)),
// lo = RN(1/(2k+1) - hi), so relative error <= u^2 (1 + u) (generated with MPFR;
// tests/gpu/sampler_hd_test.cpp checks every one against MPFR).
inline constexpr int kLogSeriesTerms = 20;
ICLCERT_HD inline DoubleWord log_series_coefficient(int k) {
  switch (k) {
    case 0: return {0x1p+0, 0x0p+0};
    case 1: return {0x1.5555555555555p-2, 0x1.5555555555555p-56};
    case 2: return {0x1.999999999999ap-3, -0x1.999999999999ap-57};
    case 3: return {0x1.2492492492492p-3, 0x1.2492492492492p-57};
    case 4: return {0x1.c71c71c71c71cp-4, 0x1.c71c71c71c71cp-58};
    case 5: return {0x1.745d1745d1746p-4, -0x1.745d1745d1746p-59};
    case 6: return {0x1.3b13b13b13b14p-4, -0x1.3b13b13b13b14p-58};
    case 7: return {0x1.1111111111111p-4, 0x1.1111111111111p-60};
    case 8: return {0x1.e1e1e1e1e1e1ep-5, 0x1.e1e1e1e1e1e1ep-61};
    case 9: return {0x1.af286bca1af28p-5, 0x1.af286bca1af28p-59};
    case 10: return {0x1.8618618618618p-5, 0x1.8618618618618p-59};
    case 11: return {0x1.642c8590b2164p-5, 0x1.642c8590b2164p-60};
    case 12: return {0x1.47ae147ae147bp-5, -0x1.eb851eb851eb8p-61};
    case 13: return {0x1.2f684bda12f68p-5, 0x1.2f684bda12f68p-59};
    case 14: return {0x1.1a7b9611a7b96p-5, 0x1.1a7b9611a7b96p-61};
    case 15: return {0x1.0842108421084p-5, 0x1.0842108421084p-60};
    case 16: return {0x1.f07c1f07c1f08p-6, -0x1.f07c1f07c1f08p-61};
    case 17: return {0x1.d41d41d41d41dp-6, 0x1.075075075075p-60};
    case 18: return {0x1.bacf914c1badp-6, -0x1.bacf914c1badp-60};
    default: return {0x1.a41a41a41a41ap-6, 0x1.069069069069p-60};  // k = 19
  }
}
// ln 2 as a normalized double word, relative error < 2^-108 (checked likewise).
inline constexpr DoubleWord kLn2{0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};
// RN(1 / sqrt 2), the reduction threshold.
inline constexpr double kRangeLow = 0x1.6a09e667f3bcdp-1;

// log s for a normal double s in (0, 1), as a double word L with
//   |L - log s| <= 2^-96 |log s|          (for kTerms = kLogSeriesTerms)
// Proof, with u = 2^-53 and eta_q the relative error of a quantity q:
//  1. Reduction (exact): frexp gives s = f 2^e, f in [1/2, 1); f < kRangeLow gives
//     m = 2f, e - 1, so s = m 2^e with m in [c0, 2c0), c0 = kRangeLow, e integer
//     in [-1023, 0]. log s = e ln2 + log m, log m = 2 atanh(t), t = (m-1)/(m+1),
//     |t| <= 0.17158, tau = t^2 <= 0.0295, |log m| <= ln2/2 + 2^-52.
//  2. t: m - 1 is exact (Sterbenz), m + 1 = dh + dl exactly (TwoSum). q1 =
//     RN((m-1)/dh); r = (m-1) - q1 dh is a double (remainder of a rounded
//     quotient) and the fma gives it exactly; q2 = RN(RN(r - q1 dl) / dh). Since
//     t - q1 = (r - q1 dl) / (dh + dl), q2 = (t - q1)(1 + e1)(1 + e2)(1 + dl/dh)
//     errs by <= 3.01u |t - q1|, and |t - q1| <= 2.01u |t|: eta_t <= 6.1 u^2 < 7u^2.
//  3. tau = dw_mul(t, t): eta_tau <= 2 eta_t + 8u^2 + O(u^4) < 23 u^2.
//  4. P = sum_{k=0}^{19} tau^k / (2k+1) by Horner, H_19 = c_19 (eta <= 1.01u^2),
//     H_k = dw_add(c_k, dw_mul(tau, H_{k+1})). Every term is positive, so a sum of
//     terms with relative errors <= a and <= b has relative error <= max(a, b)
//     before its own rounding: eta_{H_k} <= eta_{H_{k+1}} + eta_tau + 8u^2 + 4u^2
//     + O(u^4) <= eta_{H_{k+1}} + 35u^2. So eta_{H_0} <= 1.01u^2 + 19 * 35u^2 <
//     667u^2 against the polynomial; the series' tail beyond k = 19 is <=
//     tau^20 / 41 / (1 - tau) < 2^-106.9 < u^2 relative (P >= 1): eta_P < 668u^2.
//  5. log m = 2 dw_mul(t, P) (the doubling is exact): eta <= 7 + 668 + 8 < 684u^2.
//  6. e = 0: done. e <= -1: E = dw_mul(e, ln2) has eta_E <= 8u^2 + 2^-108 (ln2's
//     word) < 8.4u^2. |E| >= ln2 >= 2 |log m| - 2^-51, so |log s| >= |E| / 2 (1 -
//     2^-50) and |log m| <= |log s| (1 + 2^-49): dw_add(E, log m) errs by <= 3.01u^2
//     (|E| + |log m|) (1 + O(u)) <= 9.1u^2 |log s|, the inputs' errors add <= 2 *
//     8.4u^2 + 684u^2 (relative to |log s|): eta <= 710u^2 < 2^10 u^2 = 2^-96.
// Only the default kTerms carries this proof; fewer terms are the planted bug of
// the test (a truncated series its checks must catch).
template <int kTerms = kLogSeriesTerms>
ICLCERT_HD inline DoubleWord log_double_word(double s) {
  static_assert(kTerms >= 1 && kTerms <= kLogSeriesTerms, "1 to 20 series terms");
  int e = 0;
  double m = frexp(s, &e);  // exact
  if (m < kRangeLow) {
    m = 2.0 * m;  // exact
    --e;
  }
  // t = (m - 1) / (m + 1) as a double word (step 2).
  const double num = m - 1.0;
  const DoubleWord den = two_sum(m, 1.0);
  const double q1 = num / den.hi;
  const double r = fma(-q1, den.hi, num);
  const double q2 = fma(-q1, den.lo, r) / den.hi;
  const DoubleWord t = fast_two_sum(q1, q2);
  // P(t^2) by Horner (steps 3-4).
  const DoubleWord tau = dw_mul(t, t);
  DoubleWord p = log_series_coefficient(kTerms - 1);
  for (int k = kTerms - 2; k >= 0; --k) p = dw_add(log_series_coefficient(k), dw_mul(tau, p));
  DoubleWord log_m = dw_mul(t, p);
  log_m.hi *= 2.0;
  log_m.lo *= 2.0;
  if (e == 0) return log_m;
  return dw_add(dw_mul({static_cast<double>(e), 0.0}, kLn2), log_m);  // step 6
}

// The correctly rounded log s (what mpfr_log at 53 bits, RNDN, gives) for a double
// s in (0, 1) with s >= 2^-1000, or false when the proved bound cannot decide it.
// With L = hi + lo (hi = RN(L)) and |L - log s| <= 2^-96 |log s| <= 2^-95 |hi| =
// delta, RN(log s) = hi when log s lies strictly between hi's rounding boundaries
// hi - down and hi + up (half the gaps to hi's neighbours; log s of a double s != 1
// is transcendental, so never a midpoint itself): lo + delta < up and lo - delta >
// -down suffice, and as RN is monotonic, testing RN(lo + delta) < up and
// RN(lo - delta) > -down proves them.
template <int kTerms = kLogSeriesTerms>
ICLCERT_HD inline bool log_rounded(double s, double* out) {
  const DoubleWord l = log_double_word<kTerms>(s);
  const double delta = fabs(l.hi) * 0x1p-95;  // exact (a power of two; no underflow)
  const double up = (nextafter(l.hi, HUGE_VAL) - l.hi) * 0.5;    // exact
  const double down = (l.hi - nextafter(l.hi, -HUGE_VAL)) * 0.5;  // exact
  if (l.lo + delta < up && l.lo - delta > -down) {
    *out = l.hi;
    return true;
  }
  return false;
}

// ---- The generator: Xoshiro256 of numerics/sampler.cpp.
class Xoshiro256 {
 public:
  ICLCERT_HD explicit Xoshiro256(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }
  ICLCERT_HD std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  ICLCERT_HD double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  ICLCERT_HD static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  ICLCERT_HD static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// The polar normals of FastNormal (sampler.cpp): same steps, same roundings.
class PolarNormal {
 public:
  ICLCERT_HD explicit PolarNormal(std::uint64_t seed) : rng_(seed) {}
  // False when the log could not be decided (the stream is then unusable).
  ICLCERT_HD bool next(double* out) {
    if (has_spare_) {
      has_spare_ = false;
      *out = spare_;
      return true;
    }
    double u, v, s;
    do {
      u = 2.0 * rng_.uniform() - 1.0;  // exact
      v = 2.0 * rng_.uniform() - 1.0;
      s = mul_rn(u, u) + mul_rn(v, v);  // two roundings, then a third: never an fma
    } while (s >= 1.0 || s == 0.0);
    // s >= 2^-104 (u, v are multiples of 2^-52): log_rounded's range.
    double log_s;
    if (!log_rounded(s, &log_s)) return false;
    const double factor = sqrt((-2.0 * log_s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    *out = u * factor;
    return true;
  }

 private:
  Xoshiro256 rng_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// classify_fast's score of class c and its error bound, in its order of operations.
ICLCERT_HD inline void class_score(const double* W, const double* x, int c, int d, double* score, double* err) {
  double s = 0, a = 0;
  for (int k = 0; k < d; ++k) {
    const double p = mul_rn(W[c * d + k], x[k]);
    s += p;
    a += fabs(p);
  }
  *score = s;
  *err = mul_rn(mul_rn(static_cast<double>(d + 2), 0x1p-52), a) + 0x1p-1000;
}

// argmax_c <w_c, x> (ties to the smallest index) exactly as classify_fast decides
// it, or -1 where it would fall back to the exact classify(). Two passes that
// recompute the scores instead of classify_fast's arrays (no 4 KiB of stack per
// thread); the recomputed scores are the same doubles.
ICLCERT_HD inline int classify(const double* W, const double* x, int C, int d) {
  int best = 0;
  double best_score, best_err;
  class_score(W, x, 0, d, &best_score, &best_err);
  for (int c = 1; c < C; ++c) {
    double score, err;
    class_score(W, x, c, d, &score, &err);
    if (score > best_score) {
      best = c;
      best_score = score;
      best_err = err;
    }
  }
  for (int c = 0; c < C; ++c) {
    if (c == best) continue;
    double score, err;
    class_score(W, x, c, d, &score, &err);
    if (!(best_score - score > (best_err + err) * (1 + 0x1p-40))) return -1;
  }
  return best;
}

}  // namespace sampler_hd

// Doubles of scratch sample_prompt_hd needs: W (C x d) and one point (d).
ICLCERT_HD inline long sample_prompt_hd_scratch(int d, int C) { return (static_cast<long>(C) + 1) * d; }

// Draws the prompt of SamplerOptions{d, C, N, seed} (margin 0, not balanced) as
// sample_prompt_doubles does: X (N x d, row-major), labels (N), probe (d) and
// *probe_label (the probe's class, or -1 when with_probe_label is false), each
// double converted with static_cast<T>. scratch: sample_prompt_hd_scratch(d, C)
// doubles. Returns false, with the outputs partly written, when the sizes are
// outside 1 <= d, 2 <= C <= 256, 1 <= N or when a step could not be decided here
// (a log too close to a rounding boundary, a class within the score error bound):
// the caller then redoes the prompt with sample_prompt_doubles.
template <class T>
ICLCERT_HD bool sample_prompt_hd(std::uint64_t seed, int d, int C, int N, bool with_probe_label, T* X,
                                 std::int32_t* labels, T* probe, std::int32_t* probe_label, double* scratch) {
  if (d < 1 || C < 2 || C > 256 || N < 1) return false;
  double* W = scratch;
  double* x = scratch + static_cast<long>(C) * d;
  sampler_hd::PolarNormal rng(seed);
  for (long i = 0; i < static_cast<long>(C) * d; ++i)
    if (!rng.next(&W[i])) return false;
  for (int i = 0; i <= N; ++i) {  // the N points, then the probe (i = N)
    for (int k = 0; k < d; ++k)
      if (!rng.next(&x[k])) return false;
    T* out = i < N ? X + static_cast<long>(i) * d : probe;
    for (int k = 0; k < d; ++k) out[k] = static_cast<T>(x[k]);
    if (i == N && !with_probe_label) break;  // the reference computes and drops it
    const int label = sampler_hd::classify(W, x, C, d);
    if (label < 0) return false;
    if (i < N)
      labels[i] = label;
    else
      *probe_label = label;
  }
  if (!with_probe_label) *probe_label = -1;
  return true;
}

}  // namespace iclcert::gpu
