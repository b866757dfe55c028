// The interval tier's attention on panels of query columns (issue 13, the
// throughput of certify_prompt): the big products in midpoint-radius form with an
// a-priori bound of their rounding, the softmax and exp in inf-sup form lane by
// lane, with no per-element branch the compiler cannot turn into a select.
// theory/interval_kernel.md ("Midpoint-radius products", "The lane exp") has
// the arguments; this header is __host__ __device__ like interval_certify.hpp.
//
// What is enclosed: for keys K (n x D), values V (n x D) and queries Q (the
// panel's columns), all given as inf-sup enclosures (Iv), attend_panel returns
// enclosures of the scores q_j . k_i, of the softmax (or linear) weights and of
// the aggregates sum_i w_ij v_i, for every point of the inputs.
//
// Trusted, beyond interval_kernel.hpp's contract:
//  * the standard error bound of a dot product of doubles evaluated in round to
//    nearest in any order (with or without fused multiply-adds), with gradual
//    underflow: |fl(x.y) - x.y| <= gamma_n |x|.|y| + n eta, gamma_n = nu/(1-nu),
//    eta = 2^-1074 (Higham, Accuracy and Stability, Thm 3.1, plus the absolute
//    error eta/2 of an underflowing product); and for nonnegative terms
//    sum a_k b_k <= (1 + 2nu) fl(sum a_k b_k) + n eta (proved in theory/).
//  * the exp enclosure of the lane exp: the Taylor remainder on [0, 45/64].
#pragma once

#include "gpu/interval_kernel.hpp"

namespace iclcert::gpu {

namespace iv_attn {

using namespace iv_detail;

inline constexpr int kIvLanes = 8;  // query columns per panel (one 64-byte vector of doubles)
inline constexpr int kKeyBlock = 4;  // keys (features) per register block of the products

// A panel's 8 lanes as one value: a 64-byte GCC vector on the host (kept in a
// register), a plain array elsewhere. Only + and * are used, lane by lane.
#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double Lanes __attribute__((vector_size(64)));
inline Lanes lanes_load(const double* p) {
  Lanes r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
inline void lanes_store(double* p, const Lanes& a) { std::memcpy(p, &a, sizeof a); }
inline Lanes lanes_zero() { return Lanes{}; }
#define ICLCERT_IV_UNROLL _Pragma("GCC unroll 16")
#else
struct Lanes {
  double v[kIvLanes];
  ICLCERT_HD friend Lanes operator*(const Lanes& a, double s) {
    Lanes r;
    for (int l = 0; l < kIvLanes; ++l) r.v[l] = a.v[l] * s;
    return r;
  }
  ICLCERT_HD friend Lanes operator+(const Lanes& a, const Lanes& b) {
    Lanes r;
    for (int l = 0; l < kIvLanes; ++l) r.v[l] = a.v[l] + b.v[l];
    return r;
  }
};
ICLCERT_HD inline Lanes lanes_load(const double* p) {
  Lanes r;
  for (int l = 0; l < kIvLanes; ++l) r.v[l] = p[l];
  return r;
}
ICLCERT_HD inline void lanes_store(double* p, const Lanes& a) {
  for (int l = 0; l < kIvLanes; ++l) p[l] = a.v[l];
}
ICLCERT_HD inline Lanes lanes_zero() { return Lanes{}; }
#if defined(__CUDACC__)
#define ICLCERT_IV_UNROLL _Pragma("unroll")
#else
#define ICLCERT_IV_UNROLL
#endif
#endif

// An upper bound of next_up(x) in floating-point operations only, for lane
// loops (theory/interval_kernel.md, "The lane step"): for every double x,
// next_up(x) <= step_up(x) <= next_up(next_up(x)) or +inf; -inf goes to
// -DBL_MAX (as next_up), +inf and NaN stay. x + (|x| 2^-52 + eta) in round to
// nearest: |x| 2^-52 + eta >= the gap from x to its successor, and RN is
// monotone, so the sum rounds to at least that successor.
ICLCERT_HD inline double labs(double x) { return x < 0 ? -x : x; }
ICLCERT_HD inline double step_up(double x) {
  const double y = x + (labs(x) * 0x1p-52 + kDenormMin);
  return x == -kInf ? -kMaxDouble : y;
}
ICLCERT_HD inline double step_down(double x) { return -step_up(-x); }

// One operation rounded outward, lane-loop friendly. Device: the directed
// intrinsics (interval_kernel.hpp). Host: to nearest, then step_up / step_down.
// F = kFaultNearest drops the step (tests only).
#ifdef __CUDA_ARCH__
template <int F> __device__ inline double ladd_dn(double a, double b) { return add_dn<F>(a, b); }
template <int F> __device__ inline double ladd_up(double a, double b) { return add_up<F>(a, b); }
template <int F> __device__ inline double lmul_dn(double a, double b) { return mul_dn<F>(a, b); }
template <int F> __device__ inline double lmul_up(double a, double b) { return mul_up<F>(a, b); }
template <int F> __device__ inline double ldiv_dn(double a, double b) { return div_dn<F>(a, b); }
template <int F> __device__ inline double ldiv_up(double a, double b) { return div_up<F>(a, b); }
#else
#define ICLCERT_IV_LOP(name, op)                                  \
  template <int F>                                                \
  inline double name##_dn(double a, double b) {                   \
    const double r = a op b;                                      \
    if constexpr ((F & kFaultNearest) != 0) return r;                   \
    else return step_down(r);                                     \
  }                                                               \
  template <int F>                                                \
  inline double name##_up(double a, double b) {                   \
    const double r = a op b;                                      \
    if constexpr ((F & kFaultNearest) != 0) return r;                   \
    else return step_up(r);                                       \
  }
ICLCERT_IV_LOP(ladd, +)
ICLCERT_IV_LOP(lmul, *)
ICLCERT_IV_LOP(ldiv, /)
#undef ICLCERT_IV_LOP
#endif
template <int F> ICLCERT_HD inline double lsub_dn(double a, double b) { return ladd_dn<F>(a, -b); }
template <int F> ICLCERT_HD inline double lsub_up(double a, double b) { return ladd_up<F>(a, -b); }

// Interval operations for lane loops (elementwise parts of a layer). lane_add
// is IvArith's add exactly. lane_mul is IvArith's mul for finite endpoints (the
// four products to nearest, the extremes stepped outward; an overflow to +-inf
// is still an enclosure); callers send products with an infinite or NaN endpoint
// to IvArith<F>::mul in a second pass (fix_products), so that the loop has no call.
template <int F>
ICLCERT_HD inline Iv lane_add(Iv a, Iv b) {
  return {ladd_dn<F>(a.lo, b.lo), ladd_up<F>(a.hi, b.hi)};
}
template <int F>
ICLCERT_HD inline Iv lane_mul(Iv a, Iv b) {
  const double p1 = a.lo * b.lo, p2 = a.lo * b.hi, p3 = a.hi * b.lo, p4 = a.hi * b.hi;
  const double lo = min2(min2(p1, p2), min2(p3, p4)), hi = max2(max2(p1, p2), max2(p3, p4));
  if constexpr ((F & kFaultNearest) != 0) return {lo, hi};
  else return {step_down(lo), step_up(hi)};
}
ICLCERT_HD inline bool finite_iv(Iv a) { return a.lo > -kInf && a.hi < kInf; }  // false for NaN

// ---- Midpoint-radius form (theory/interval_kernel.md, "Midpoint-radius products").
// An enclosure [lo, hi] becomes a point m and a radius r >= max(m - lo, hi - m)
// (any m works: r is rounded up). Not finite (or NaN): m = 0, r = +inf.
template <int F>
ICLCERT_HD inline void to_midrad(Iv x, double& m, double& r) {
  const bool finite = x.lo > -kInf && x.hi < kInf;
  const double mid = 0.5 * x.lo + 0.5 * x.hi;
  m = finite ? mid : 0.0;
  r = finite ? max2(lsub_up<F>(mid, x.lo), lsub_up<F>(x.hi, mid)) : kInf;
}

// The operand on the key (value) side of a product, per element: the midpoint m,
// A = |m| + r and B = r + g |m| rounded up, g = n 2^-52 >= gamma_n for the n
// products of one midpoint dot product (the midpoint's rounding error folded in).
template <int F>
ICLCERT_HD inline void key_side(Iv x, double g, double& m, double& a, double& b) {
  double r;
  to_midrad<F>(x, m, r);
  a = ladd_up<F>(labs(m), r);
  b = (F & kFaultNoMidpointError) != 0 ? r : ladd_up<F>(r, lmul_up<F>(g, labs(m)));
}

// The enclosure of a product x.y from the midpoint sum sm = fl(sum xm ym) (n_mid
// products) and the radius sum sr = fl(sum of n_rad nonnegative products):
//   |x.y - sm| <= (1 + n_rad 2^-52) sr + (n_rad + n_mid) eta.
template <int F>
ICLCERT_HD inline Iv from_midrad(double sm, double sr, int n_rad, int n_mid) {
  double U = sr;
  if constexpr ((F & kFaultNoRadiusFactor) == 0) {
    const double f = 1.0 + static_cast<double>(n_rad) * 0x1p-52;  // exact: 1 + 2 n_rad u
    U = ladd_up<F>(lmul_up<F>(sr, f), static_cast<double>(n_rad + n_mid) * kDenormMin);
  }
  const bool ok = sm - sm == 0 && U < kInf;  // false for NaN and infinities
  return ok ? Iv{lsub_dn<F>(sm, U), ladd_up<F>(sm, U)} : Iv{-kInf, kInf};
}

// ---- The lane exp (theory/interval_kernel.md, "The lane exp"): exp over
// X = [a, b] with n = an integer <= a / ln 2 so that r = x - n ln 2 lies in
// [0, kLaneRho] for x in X (checked per lane), the degree-17 Taylor polynomial
// on [0, kLaneRho] with positive coefficients (monotone, no division), and 2^n.
// Lanes that fail the check (wide X, out of range, NaN) take IvArith<F>::exp.
inline constexpr double kLaneRho = 0.703125;       // 45/64 >= ln 2 + the reduction's slack
inline constexpr double kLaneExpRhoUp = 2.0201;    // >= e^(45/64) = 2.02007...
inline constexpr int kLaneExpDegree = 17;

template <int K>
constexpr double lane_exp_remainder_bound() {
  static_assert(K >= 2 && K <= 17, "degree 2..17 (the table of 1/k! and the 2^-46 argument)");
  double v = kLaneExpRhoUp;
  for (int k = 1; k <= K + 1; ++k) v = v * kLaneRho / k;
  return v * (1 + 0x1p-40);
}

// x[l] <- lower ends and y[l] <- upper ends of exp([x[l], y[l]]) for W lanes.
template <int F, int W, int K = kLaneExpDegree>
ICLCERT_HD inline void lanes_exp(double* x, double* y) {
  // ok[l] = 1 on the lane path. Selects and non-short-circuit tests only, and
  // every operation computed unconditionally, so that the loop vectorises.
  double n[W], rl[W], rh[W], ok[W];
  for (int l = 0; l < W; ++l) {
    const double a = x[l], b = y[l];
    const bool in = (a >= kUnderflowArg) & (b <= kOverflowArg) & (b - a <= 0.0078125);  // false for NaN
    const double aa = in ? a : 0.0, bb = in ? b : 0.0;
    // floor(a log2e - 2^-20) via the 1.5 * 2^52 trick (round to nearest of t - 1/2).
    const double t = aa * kLog2e - (0.5 + 0x1p-20);
    const double nn = (t + 6755399441055744.0) - 6755399441055744.0;
    n[l] = nn;
    const double nh = nn * kLn2Hi;  // exact
    const bool neg = nn < 0;
    const double cl = lmul_dn<F>(nn, neg ? kLn2LoUp : kLn2LoDn), ch = lmul_up<F>(nn, neg ? kLn2LoDn : kLn2LoUp);
    const double lo = lsub_dn<F>(lsub_dn<F>(aa, nh), ch), hi = lsub_up<F>(lsub_up<F>(bb, nh), cl);
    const bool good = in & (lo >= 0) & (hi <= kLaneRho);
    ok[l] = good ? 1.0 : 0.0;
    rl[l] = good ? lo : 0.0;
    rh[l] = good ? hi : 0.0;
  }
  // Horner in round to nearest on both chains, then one relative widening by
  // 4u = 2^-51 (theory/interval_kernel.md, "The lane exp"): with r in [0, 45/64]
  // and positive coefficients, |p - P| <= (2r + 1) u P (1 + 2^-40) + 2K eta.
  double pl[W], ph[W];
  {
    const Iv c = inv_factorial(K);
    for (int l = 0; l < W; ++l) pl[l] = c.lo, ph[l] = c.hi;
  }
  ICLCERT_IV_UNROLL
  for (int k = K - 1; k >= 0; --k) {
    const Iv c = inv_factorial(k);
    for (int l = 0; l < W; ++l) {
      pl[l] = pl[l] * rl[l] + c.lo;
      ph[l] = ph[l] * rh[l] + c.hi;
    }
  }
  constexpr double e = (F & kFaultHalfExpBound) != 0 ? lane_exp_remainder_bound<K>() / 2 : lane_exp_remainder_bound<K>();
  for (int l = 0; l < W; ++l) {
    if constexpr ((F & kFaultNearest) == 0) {
      pl[l] = lmul_dn<F>(pl[l], 1 - 0x1p-51);
      ph[l] = ladd_up<F>(lmul_up<F>(ph[l], 1 + 0x1p-51), e);
    } else {
      ph[l] = ph[l] + e;
    }
    // p 2^n with 2^n = 2^n1 2^n2: p in [1, 2.03] and |n1| <= 539, so p 2^n1 is
    // normal and exact; the second product is exact when its result is normal and
    // finite, else it is stepped outward.
    const int ni = static_cast<int>(n[l]), n1 = ni / 2, n2 = ni - n1;
    const double s1 = pow2(n1), s2 = pow2(n2);
    double lo = (pl[l] * s1) * s2, hi = (ph[l] * s1) * s2;
    if constexpr ((F & kFaultNearest) == 0) {
      lo = lo >= kMinNormal && lo <= kMaxDouble ? lo : step_down(lo);
      hi = hi >= kMinNormal && hi <= kMaxDouble ? hi : step_up(hi);
    }
    pl[l] = max2(lo, 0.0);
    ph[l] = hi;
  }
  for (int l = 0; l < W; ++l) {
    if (ok[l] != 0) {
      x[l] = pl[l];
      y[l] = ph[l];
    } else {
      const Iv v = IvArith<F>::exp(Iv{x[l], y[l]});
      x[l] = max2(v.lo, 0.0);
      y[l] = v.hi;
    }
  }
}

// ---- One panel of W = kIvLanes query columns.

// Scratch of one panel (doubles), carved by the caller.
struct PanelScratch {
  double *qm, *qa, *qr;  // D x W: query midpoints, |midpoints|, radii
  double *tl, *th;       // n x W: scores, then exps, then weights (lower, upper ends)
  double *sl, *sh;       // n x W: prefix sums
};
ICLCERT_HD inline long panel_scratch_doubles(int D, int n) { return 3L * D * kIvLanes + 4L * n * kIvLanes; }
ICLCERT_HD inline PanelScratch carve_panel(double* p, int D, int n) {
  PanelScratch s;
  s.qm = p;
  s.qa = s.qm + static_cast<long>(D) * kIvLanes;
  s.qr = s.qa + static_cast<long>(D) * kIvLanes;
  s.tl = s.qr + static_cast<long>(D) * kIvLanes;
  s.th = s.tl + static_cast<long>(n) * kIvLanes;
  s.sl = s.th + static_cast<long>(n) * kIvLanes;
  s.sh = s.sl + static_cast<long>(n) * kIvLanes;
  return s;
}

// Keys and values in midpoint-radius form, feature-major with stride P >= n:
// m[k * P + i], and the A / B sides of key_side.
struct SideArrays {
  double *m, *a, *b;
};

// Scores of the panel: t[i][l] encloses q_l . k_i. Midpoint sum: D products;
// radius sum: sum_k |qm| B + qr A, 2D nonnegative products.
template <int F, int KB>
ICLCERT_HD inline void panel_scores(const SideArrays& K, int P, int D, int n, int i0, const PanelScratch& s) {
  constexpr int W = kIvLanes;
  for (; i0 + KB <= n; i0 += KB) {
    Lanes am[KB], ar[KB];
    ICLCERT_IV_UNROLL
    for (int u = 0; u < KB; ++u) am[u] = lanes_zero(), ar[u] = lanes_zero();
    for (int k = 0; k < D; ++k) {
      const Lanes qm = lanes_load(s.qm + k * W), qa = lanes_load(s.qa + k * W), qr = lanes_load(s.qr + k * W);
      const double* km = K.m + static_cast<long>(k) * P + i0;
      const double* ka = K.a + static_cast<long>(k) * P + i0;
      const double* kb = K.b + static_cast<long>(k) * P + i0;
      ICLCERT_IV_UNROLL
      for (int u = 0; u < KB; ++u) {
        am[u] = am[u] + qm * km[u];
        ar[u] = ar[u] + qa * kb[u] + qr * ka[u];
      }
    }
    ICLCERT_IV_UNROLL
    for (int u = 0; u < KB; ++u) {
      double m[W], r[W];
      lanes_store(m, am[u]);
      lanes_store(r, ar[u]);
      for (int l = 0; l < W; ++l) {
        const Iv t = from_midrad<F>(m[l], r[l], 2 * D, D);
        s.tl[(i0 + u) * W + l] = t.lo;
        s.th[(i0 + u) * W + l] = t.hi;
      }
    }
  }
  if constexpr (KB > 1) panel_scores<F, KB / 2>(K, P, D, n, i0, s);
}

// The softmax enclosure of interval_certify.hpp's softmax_row (theory/
// softmax_enclosure.md and interval_kernel.md, "Softmax"), for the W lanes at
// once: scores in s.tl / s.th become weights. Returns false when step 2's
// intersection was empty in some lane.
template <int F>
ICLCERT_HD inline bool panel_softmax(int n, const PanelScratch& s) {
  constexpr int W = kIvLanes;
  // Lane loops with selects only (no short-circuit, every operation computed
  // unconditionally: a division by 0 gives inf, which the select discards), so
  // that they vectorise. fin[l] = 1 when every score of lane l is finite.
  double m[W], fin[W];
  for (int l = 0; l < W; ++l) m[l] = -kInf, fin[l] = 1;
  for (int i = 0; i < n; ++i)
    for (int l = 0; l < W; ++l) {
      const double lo = s.tl[i * W + l], hi = s.th[i * W + l];
      fin[l] = (lo > -kInf) & (hi < kInf) ? fin[l] : 0.0;  // 0 for NaN too
      m[l] = max2(m[l], 0.5 * lo + 0.5 * hi);
    }
  // E_i = exp(T_i - m), in place; prefix sums of lo(E) down and hi(E) up.
  double rl[W], rh[W];
  for (int l = 0; l < W; ++l) rl[l] = rh[l] = 0, m[l] = fin[l] != 0 ? m[l] : 0.0;
  for (int i = 0; i < n; ++i) {
    double* xl = s.tl + i * W;
    double* xh = s.th + i * W;
    for (int l = 0; l < W; ++l) {
      xl[l] = lsub_dn<F>(xl[l], m[l]);
      xh[l] = lsub_up<F>(xh[l], m[l]);
    }
    lanes_exp<F, W>(xl, xh);
    for (int l = 0; l < W; ++l) {
      s.sl[i * W + l] = rl[l];
      s.sh[i * W + l] = rh[l];
      rl[l] = ladd_dn<F>(rl[l], xl[l]);
      rh[l] = ladd_up<F>(rh[l], xh[l]);
    }
  }
  // Suffix pass: w_i = 1 / (1 + F_i [SL_i, SH_i]), F_i = 1 / E_i.
  for (int l = 0; l < W; ++l) rl[l] = rh[l] = 0;
  for (int i = n - 1; i >= 0; --i)
    for (int l = 0; l < W; ++l) {
      const long e = i * W + l;
      const double el = s.tl[e], eh = s.th[e];
      const double ol = ladd_dn<F>(s.sl[e], rl[l]), oh = ladd_up<F>(s.sh[e], rh[l]);
      rl[l] = ladd_dn<F>(rl[l], el);
      rh[l] = ladd_up<F>(rh[l], eh);
      const double fl = ldiv_dn<F>(1.0, eh);  // 0 (or -eta, then clamped) when eh = inf
      const double q = ldiv_up<F>(1.0, el);
      const double fh = el > 0 ? q : kInf;    // +inf when lo(E) = 0
      const double pl = max2(lmul_dn<F>(fl, ol), 0.0);  // fl and ol finite
      const double p = lmul_up<F>(fh, oh);
      const double ph = oh == 0 ? 0.0 : p;    // 0 * inf counts as 0
      const double dl = ladd_dn<F>(1.0, pl), dh = ladd_up<F>(1.0, ph);
      const double wl = max2(ldiv_dn<F>(1.0, dh), 0.0), wh = min2(ldiv_up<F>(1.0, dl), 1.0);
      s.tl[e] = fin[l] != 0 ? wl : 0.0;
      s.th[e] = fin[l] != 0 ? wh : 1.0;
    }
  // Step 2: the weights sum to 1.
  for (int l = 0; l < W; ++l) rl[l] = rh[l] = 0;
  for (int i = 0; i < n; ++i)
    for (int l = 0; l < W; ++l) {
      s.sl[i * W + l] = rl[l];
      s.sh[i * W + l] = rh[l];
      rl[l] = ladd_dn<F>(rl[l], s.tl[i * W + l]);
      rh[l] = ladd_up<F>(rh[l], s.th[i * W + l]);
    }
  double apart[W];  // 1 once some weight's two enclosures were disjoint
  for (int l = 0; l < W; ++l) rl[l] = rh[l] = 0, apart[l] = 0;
  for (int i = n - 1; i >= 0; --i)
    for (int l = 0; l < W; ++l) {
      const long e = i * W + l;
      const double ol = ladd_dn<F>(s.sl[e], rl[l]), oh = ladd_up<F>(s.sh[e], rh[l]);
      const double wl = s.tl[e], wh = s.th[e];
      rl[l] = ladd_dn<F>(rl[l], wl);
      rh[l] = ladd_up<F>(rh[l], wh);
      const double lo = max2(wl, lsub_dn<F>(1.0, oh)), hi = min2(wh, lsub_up<F>(1.0, ol));
      const bool meet = lo <= hi;
      apart[l] = meet ? apart[l] : 1.0;
      s.tl[e] = meet ? lo : wl;
      s.th[e] = meet ? hi : wh;
    }
  bool ok = true;
  for (int l = 0; l < W; ++l) ok = ok && apart[l] == 0;
  return ok;
}

// Aggregates of the panel: out[l * D + c] encloses sum_i w_li v_ic, the weights
// as weights_to_midrad leaves them, values V (side arrays, feature-major).
// Midpoint sum: n products; radius sum: sum_i wr A + |wm| B, 2n.
template <int F, int CB>
ICLCERT_HD inline void panel_aggregate(const SideArrays& V, int P, int D, int n, int c0, const PanelScratch& s,
                                       Iv* out, int lanes) {
  constexpr int W = kIvLanes;
  for (; c0 + CB <= D; c0 += CB) {
    Lanes am[CB], ar[CB];
    ICLCERT_IV_UNROLL
    for (int u = 0; u < CB; ++u) am[u] = lanes_zero(), ar[u] = lanes_zero();
    for (int i = 0; i < n; ++i) {
      const Lanes wm = lanes_load(s.tl + i * W), wr = lanes_load(s.th + i * W), wa = lanes_load(s.sl + i * W);
      ICLCERT_IV_UNROLL
      for (int u = 0; u < CB; ++u) {
        const long e = static_cast<long>(c0 + u) * P + i;
        am[u] = am[u] + wm * V.m[e];
        ar[u] = ar[u] + wr * V.a[e] + wa * V.b[e];
      }
    }
    ICLCERT_IV_UNROLL
    for (int u = 0; u < CB; ++u) {
      double m[W], r[W];
      lanes_store(m, am[u]);
      lanes_store(r, ar[u]);
      for (int l = 0; l < lanes; ++l) out[static_cast<long>(l) * D + c0 + u] = from_midrad<F>(m[l], r[l], 2 * n, n);
    }
  }
  if constexpr (CB > 1) panel_aggregate<F, CB / 2>(V, P, D, n, c0, s, out, lanes);
}

// Weights (lower, upper ends in s.tl / s.th) to midpoint (s.tl), radius (s.th)
// and |midpoint| (s.sl), in place (the linear kernel's weights have either sign).
template <int F>
ICLCERT_HD inline void weights_to_midrad(int n, const PanelScratch& s) {
  for (long e = 0; e < static_cast<long>(n) * kIvLanes; ++e) {
    double m, r;
    to_midrad<F>(Iv{s.tl[e], s.th[e]}, m, r);
    s.tl[e] = m;
    s.th[e] = r;
    s.sl[e] = labs(m);
  }
}

// One panel: queries q (lanes rows of D enclosures, row-major; lanes <= W, the
// rest padded with zeros), keys K and values V as side arrays with n entries.
// out: lanes rows of D aggregates. Returns false on an empty intersection.
template <int F>
ICLCERT_HD inline bool attend_panel(const Iv* q, int lanes, const SideArrays& K, const SideArrays& V, int P, int D, int n,
                                    int softmax, const PanelScratch& s, Iv* out) {
  constexpr int W = kIvLanes;
  for (int k = 0; k < D; ++k)
    for (int l = 0; l < W; ++l) {
      double m = 0, r = 0;
      if (l < lanes) to_midrad<F>(q[static_cast<long>(l) * D + k], m, r);
      s.qm[k * W + l] = m;
      s.qa[k * W + l] = labs(m);
      s.qr[k * W + l] = r;
    }
  panel_scores<F, kKeyBlock>(K, P, D, n, 0, s);
  bool ok = true;
  if (softmax) {
    ok = panel_softmax<F>(n, s);
  } else {
    const double nk = static_cast<double>(n);
    for (long e = 0; e < static_cast<long>(n) * W; ++e) {
      s.tl[e] = ldiv_dn<F>(s.tl[e], nk);
      s.th[e] = ldiv_up<F>(s.th[e], nk);
    }
  }
  weights_to_midrad<F>(n, s);
  panel_aggregate<F, kKeyBlock>(V, P, D, n, 0, s, out, lanes);
  return ok;
}

#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace iv_attn
}  // namespace iclcert::gpu
