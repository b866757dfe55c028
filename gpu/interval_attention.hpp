// The interval tier's attention on panels of query columns (issue 13, the
// throughput of certify_prompt): the big products in midpoint-radius form with an
// a-priori bound of their rounding, the softmax and exp in inf-sup form on whole
// lane vectors (one GCC vector of W doubles on the host, a loop over the lanes on
// the device), with selects in place of per-lane branches.
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
//  * the exp enclosure of the lane exp: the Taylor remainder on [0, 45/64];
//  * on the host's AVX-512 level (x86-64-v4), the embedded rounding modes of
//    vaddpd / vmulpd / vdivpd ({rd-sae}, {ru-sae}: the one instruction rounded
//    down or up as IEEE 754 defines it, like the device's __dadd_rd and kin).
#pragma once

#include <type_traits>

#if (defined(__AVX512F__) || defined(__FMA__)) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

#include "gpu/interval_kernel.hpp"
#include "gpu/interval_workspace.hpp"

namespace iclcert::gpu {
inline namespace ICLCERT_IV_ISA_NS {
namespace iv_attn {

using namespace iv_detail;

inline constexpr int kIvLanes = 8;  // query columns per panel (one 64-byte vector of doubles)
inline constexpr int kKeyBlock = 4;  // keys (features) per register block of the products
inline constexpr int kExpRows = 4;   // softmax rows whose exps run interleaved

#if defined(__CUDACC__)
#define ICLCERT_IV_UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && !defined(__clang__)
#define ICLCERT_IV_UNROLL _Pragma("GCC unroll 16")
#else
#define ICLCERT_IV_UNROLL
#endif

// ---- Lane values. A panel's W lanes are processed VL at a time as one value of
// type LaneVec<W>::type: on the host (g++) a GCC vector of VL = min(W, the
// target's vector width in doubles) lanes, so that every lane operation is one
// vector instruction whatever the auto-vectoriser decides (8 with AVX-512, 4 with
// AVX, 2 otherwise: wider generic vectors than the target's are split by g++
// through memory); on the device and for other compilers a double (VL = 1) in a
// loop over the lanes. The same source computes the same operations lane by lane
// either way: comparisons give masks, selects are `mask ? a : b`, and no lane
// reads another. The device's interleaved layout (interval_workspace.hpp), run on
// the host by a test, takes the device's double lanes.
#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__) && !defined(ICLCERT_IV_INTERLEAVE)
#define ICLCERT_IV_HOST_VECTORS 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#if defined(__AVX512F__)
inline constexpr int kHostLanes = 8;
#elif defined(__AVX__)
inline constexpr int kHostLanes = 4;
#else
inline constexpr int kHostLanes = 2;
#endif
template <int VL>
struct HostVec {
  typedef double type __attribute__((vector_size(8 * VL)));
  typedef long long index __attribute__((vector_size(8 * VL)));
};
template <>
struct HostVec<1> {
  using type = double;
  using index = long long;
};
template <int W>
struct LaneVec {
  static constexpr int lanes = W < kHostLanes ? W : kHostLanes;
  using type = typename HostVec<lanes>::type;
  using index = typename HostVec<lanes>::index;
};
#else
template <int W>
struct LaneVec {
  using type = double;
  using index = long long;
  static constexpr int lanes = 1;
};
#endif

template <class T>
ICLCERT_HD inline constexpr bool is_scalar_lane() {
  return std::is_same_v<T, double>;
}
// s in every lane (s - 0 = s exactly, -0 and NaN included).
template <class T>
ICLCERT_HD inline T vsplat(double s) {
  if constexpr (is_scalar_lane<T>()) return s;
  else return s - T{};
}
// A lane (a double) or a host vector of lanes from consecutive doubles. A lane is a
// plain access: nvcc lowers a memcpy it cannot prove aligned to byte copies (8
// LDG.E.U8 for one double; 18,288 of them in certify_kernel, issue 28), and a
// double* is aligned by the language. Host vectors go through memcpy (their
// pointers are only double-aligned; always plain pointers: the interleaved
// layout has double lanes). P: double*, const double*, DPtr or CDPtr.
template <class T, class P>
ICLCERT_HD inline T vload(P p) {
  if constexpr (is_scalar_lane<T>()) {
    return *p;
  } else {
    T r;
    std::memcpy(&r, p, sizeof r);
    return r;
  }
}
template <class T, class P>
ICLCERT_HD inline void vstore(P p, const T& v) {
  if constexpr (is_scalar_lane<T>()) *p = v;
  else std::memcpy(p, &v, sizeof v);
}

// a * b + c rounded once (to nearest). Written out, never left to contraction
// (gpu/ compiles the certifier with -ffp-contract=off), so that every clone and
// the device compute the same value; the default clone calls libm's correctly
// rounded fma (slow, but only on CPUs without FMA). The bounds that use it hold
// with and without fusion (theory/interval_kernel.md).
ICLCERT_HD inline double lfma(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return fma(a, b, c);
#else
  return __builtin_fma(a, b, c);
#endif
}
template <class T>
ICLCERT_HD inline T vfma(T a, T b, T c) {
  if constexpr (is_scalar_lane<T>()) {
    return lfma(a, b, c);
  }
#ifdef ICLCERT_IV_HOST_VECTORS
  else {
    // One vfmadd on AVX-512 and AVX2, by intrinsic: g++ turned the lane loop into
    // scalar fmas in some unrolled contexts (the lane exp's Horner chains).
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == 64) return (T)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#endif
#if defined(__FMA__)
    if constexpr (sizeof(T) == 32) return (T)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#endif
    T r;  // no FMA in the ISA: libm's, lane by lane
    for (int l = 0; l < static_cast<int>(sizeof(T) / sizeof(double)); ++l) r[l] = __builtin_fma(a[l], b[l], c[l]);
    return r;
  }
#endif
}
// |x| by clearing the sign bit (one AND on vectors).
template <class T>
ICLCERT_HD inline T vabs(T x) {
  if constexpr (is_scalar_lane<T>()) {
#if defined(__CUDA_ARCH__)
    return fabs(x);
#else
    return __builtin_fabs(x);
#endif
  }
#ifdef ICLCERT_IV_HOST_VECTORS
  else {
    typedef long long Bits __attribute__((vector_size(sizeof(T))));
    return (T)((Bits)x & 0x7fffffffffffffffLL);
  }
#endif
}
template <class T>
ICLCERT_HD inline T vmax2(T a, T b) {
  return b > a ? b : a;  // as max2: a unless b > a
}
template <class T>
ICLCERT_HD inline T vmin2(T a, T b) {
  return b < a ? b : a;
}

// An upper bound of next_up(x) in floating-point operations only, for lane
// loops (theory/interval_kernel.md, "The lane step"): for every double x,
// next_up(x) <= step_up(x) <= next_up(next_up(x)) or +inf; -inf goes to
// -DBL_MAX (as next_up), +inf and NaN stay. x + (|x| 2^-52 + eta) in round to
// nearest: |x| 2^-52 + eta >= the gap from x to its successor, and RN is
// monotone, so the sum rounds to at least that successor.
// The increment is one fused multiply-add, RN(|x| 2^-52 + eta): the proof's
// bound e >= the gap holds for it as for the two roundings (theory/).
ICLCERT_HD inline double labs(double x) { return vabs(x); }
template <class T>
ICLCERT_HD inline T step_up(T x) {
  const T y = x + vfma(vabs(x), vsplat<T>(0x1p-52), vsplat<T>(kDenormMin));
  return x == -kInf ? vsplat<T>(-kMaxDouble) : y;
}
template <class T>
ICLCERT_HD inline T step_down(T x) {
  return -step_up(-x);
}

// One operation rounded outward, on lane values. Device: the directed
// intrinsics (interval_kernel.hpp). Host with AVX-512: the same directed
// roundings, embedded in the instruction (below). Other hosts: to nearest, then
// step_up / step_down. F = kFaultNearest rounds to nearest (tests only).
#ifdef __CUDA_ARCH__
template <int F> __device__ inline double ladd_dn(double a, double b) { return add_dn<F>(a, b); }
template <int F> __device__ inline double ladd_up(double a, double b) { return add_up<F>(a, b); }
template <int F> __device__ inline double lmul_dn(double a, double b) { return mul_dn<F>(a, b); }
template <int F> __device__ inline double lmul_up(double a, double b) { return mul_up<F>(a, b); }
template <int F> __device__ inline double ldiv_dn(double a, double b) { return div_dn<F>(a, b); }
template <int F> __device__ inline double ldiv_up(double a, double b) { return div_up<F>(a, b); }
#else
// With AVX-512 (x86-64-v4) the host has directed rounding too: an operation with
// an embedded rounding mode ({rd-sae} / {ru-sae}) rounds that one instruction as
// named, without touching MXCSR, so the 8-lane vectors and the scalars take it
// like the device, and only the narrower levels step.
#if defined(ICLCERT_IV_HOST_VECTORS) && defined(__AVX512F__)
#define ICLCERT_IV_EMBEDDED_ROUNDING 1
#endif
template <class T>
inline constexpr bool has_directed() {
#ifdef ICLCERT_IV_EMBEDDED_ROUNDING
  return sizeof(T) == 64 || is_scalar_lane<T>();
#else
  return false;
#endif
}
#ifdef ICLCERT_IV_EMBEDDED_ROUNDING
#define ICLCERT_IV_DIRECTED(T, a, b, zop, sop, mode)                                            \
  if constexpr (sizeof(T) == 64)                                                                \
    return (T)zop((__m512d)(a), (__mmask8)-1, (__m512d)(a), (__m512d)(b), mode | _MM_FROUND_NO_EXC); \
  else                                                                                          \
    return _mm_cvtsd_f64(sop(_mm_set_sd(a), _mm_set_sd(b), mode | _MM_FROUND_NO_EXC));
#else
#define ICLCERT_IV_DIRECTED(T, a, b, zop, sop, mode) return a;
#endif
// name##_##dir: a op b rounded in direction dir (dn: mode _MM_FROUND_TO_NEG_INF,
// step step_down; up: _MM_FROUND_TO_POS_INF, step_up).
#define ICLCERT_IV_LOP_DIR(name, dir, op, zop, sop, mode, step) \
  template <int F, class T>                                     \
  inline T name##_##dir(T a, T b) {                             \
    if constexpr ((F & kFaultNearest) != 0)                     \
      return a op b;                                            \
    else if constexpr (has_directed<T>()) {                     \
      ICLCERT_IV_DIRECTED(T, a, b, zop, sop, mode)              \
    } else                                                      \
      return step(a op b);                                      \
  }
#define ICLCERT_IV_LOP(name, op, zop, sop)                                    \
  ICLCERT_IV_LOP_DIR(name, dn, op, zop, sop, _MM_FROUND_TO_NEG_INF, step_down) \
  ICLCERT_IV_LOP_DIR(name, up, op, zop, sop, _MM_FROUND_TO_POS_INF, step_up)
ICLCERT_IV_LOP(ladd, +, _mm512_mask_add_round_pd, _mm_add_round_sd)
ICLCERT_IV_LOP(lmul, *, _mm512_mask_mul_round_pd, _mm_mul_round_sd)
ICLCERT_IV_LOP(ldiv, /, _mm512_mask_div_round_pd, _mm_div_round_sd)
#undef ICLCERT_IV_DIRECTED
#undef ICLCERT_IV_LOP_DIR
#undef ICLCERT_IV_LOP
#endif
template <int F, class T>
ICLCERT_HD inline T lsub_dn(T a, T b) {
  return ladd_dn<F>(a, -b);
}
template <int F, class T>
ICLCERT_HD inline T lsub_up(T a, T b) {
  return ladd_up<F>(a, -b);
}

// Interval operations for the elementwise parts of a layer (scalar). lane_add
// is IvArith's add exactly. lane_mul is IvArith's mul for finite endpoints (the
// four products to nearest, the extremes stepped outward; an overflow to +-inf
// is still an enclosure); callers send products with an infinite or NaN endpoint
// to IvArith<F>::mul in a second pass, so that the loop has no call.
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

// Rows of enclosures as interleaved endpoints (lo0, hi0, lo1, hi1, ...): on the
// host, VL / 2 enclosures per lane vector. The mask of the odd (upper) lanes and
// the pair swap (lo <-> hi of each enclosure).
#ifdef ICLCERT_IV_HOST_VECTORS
template <class T, class I>
inline I odd_lanes() {
  I m;
  for (int l = 0; l < static_cast<int>(sizeof(T) / sizeof(double)); ++l) m[l] = (l & 1) ? -1 : 0;
  return m;
}
template <class T, class I>
inline I pair_swap() {
  I m;
  for (int l = 0; l < static_cast<int>(sizeof(T) / sizeof(double)); ++l) m[l] = l ^ 1;
  return m;
}
#endif

// out[k] = lane_mul(c, z[k]) for k < count. The host takes VL / 2 enclosures at
// a time: with v the interleaved endpoints, p = v c.lo and q = v c.hi hold the
// four products of each enclosure in a lane pair, whose min and max (over the
// pair and its swap) are the product's ends, stepped outward: the same values as
// lane_mul. With AVX-512 the products are rounded down and up in the instruction
// instead (each end is the extreme of four directed products). Endpoints that
// are infinite or NaN are redone by the caller.
template <int F>
ICLCERT_HD inline void scale_row(Iv c, CIvPtr z, IvPtr out, int count) {
  int k = 0;
#ifdef ICLCERT_IV_HOST_VECTORS
  using T = typename LaneVec<kIvLanes>::type;
  using I = typename LaneVec<kIvLanes>::index;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  if constexpr (VL >= 2) {
    const I odd = odd_lanes<T, I>(), swap = pair_swap<T, I>();
    const T cl = vsplat<T>(c.lo), ch = vsplat<T>(c.hi);
    for (; k + VL / 2 <= count; k += VL / 2) {
      const T v = vload<T>(&z[k].lo);
      T mn, mx;
      if constexpr (has_directed<T>()) {  // the four products rounded down and up
        mn = vmin2(lmul_dn<F>(v, cl), lmul_dn<F>(v, ch));
        mx = vmax2(lmul_up<F>(v, cl), lmul_up<F>(v, ch));
      } else {  // to nearest, the extremes stepped below (steps are monotone)
        const T p = v * cl, q = v * ch;
        mn = vmin2(p, q);
        mx = vmax2(p, q);
      }
      const T lo = vmin2(mn, __builtin_shuffle(mn, swap)), hi = vmax2(mx, __builtin_shuffle(mx, swap));
      T r = odd ? hi : lo;
      if constexpr ((F & kFaultNearest) == 0 && !has_directed<T>()) r = odd ? step_up(r) : step_down(r);
      vstore(&out[k].lo, r);
    }
  }
#endif
  for (; k < count; ++k) out[k] = lane_mul<F>(c, z[k]);
}

// o[k] = lane_add(z[k], o[k]) for k < count, VL / 2 enclosures at a time on the host.
template <int F>
ICLCERT_HD inline void add_row(CIvPtr z, IvPtr o, int count) {
  int k = 0;
#ifdef ICLCERT_IV_HOST_VECTORS
  using T = typename LaneVec<kIvLanes>::type;
  using I = typename LaneVec<kIvLanes>::index;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  if constexpr (VL >= 2) {
    const I odd = odd_lanes<T, I>();
    for (; k + VL / 2 <= count; k += VL / 2) {
      const T a = vload<T>(&z[k].lo), b = vload<T>(&o[k].lo);
      vstore(&o[k].lo, odd ? ladd_up<F>(a, b) : ladd_dn<F>(a, b));
    }
  }
#endif
  for (; k < count; ++k) o[k] = lane_add<F>(z[k], o[k]);
}

// True when every endpoint of z[0..count) is finite (false for NaN): the sum of
// x - x over the endpoints is 0 exactly then, and NaN otherwise. P: const Iv*
// (the model's coefficients) or CIvPtr (the workspace).
template <class P>
ICLCERT_HD inline bool finite_row(P z, int count) {
  long e = 0;  // endpoints done
#ifdef ICLCERT_IV_HOST_VECTORS
  const double* p = &z[0].lo;
  const long m = 2L * count;
  using T = typename LaneVec<kIvLanes>::type;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  if constexpr (VL >= 2) {
    T acc = vsplat<T>(0.0);
    for (; e + VL <= m; e += VL) {
      const T v = vload<T>(p + e);
      acc = acc + (v - v);
    }
    double lanes[VL];
    vstore(lanes, acc);
    for (int l = 0; l < VL; ++l)
      if (lanes[l] != 0) return false;
  }
#endif
  double acc = 0;
  for (long k = e / 2; k < count; ++k) {  // e is even: whole enclosures are left
    acc = acc + (z[k].lo - z[k].lo);
    acc = acc + (z[k].hi - z[k].hi);
  }
  return acc == 0;
}

// K_ic <- K_ic - mean_c for the n rows of D enclosures of K (row-major), each
// end rounded outward; mean: D doubles, md: 2 D doubles of scratch. mean_c is
// the mean of column c's midpoints, summed in row order (any point would do:
// interval_certify.hpp's centre_keys), 0 when not finite.
template <int F>
ICLCERT_HD inline void centre_columns(IvPtr K, int n, int D, DPtr mean, DPtr md) {
  for (int c = 0; c < D; ++c) mean[c] = 0;
  for (int i = 0; i < n; ++i) {
    const CIvPtr k = K + static_cast<long>(i) * D;
    for (int c = 0; c < D; ++c) mean[c] += 0.5 * k[c].lo + 0.5 * k[c].hi;
  }
  for (int c = 0; c < D; ++c) {
    double v = mean[c] / n;
    if (!(v - v == 0)) v = 0;  // not finite: no shift
    md[2 * c] = md[2 * c + 1] = v;
  }
  for (int i = 0; i < n; ++i) {
    const IvPtr row = K + static_cast<long>(i) * D;
    int e = 0;  // endpoints done
#ifdef ICLCERT_IV_HOST_VECTORS
    double* k = &row[0].lo;
    using T = typename LaneVec<kIvLanes>::type;
    using I = typename LaneVec<kIvLanes>::index;
    constexpr int VL = LaneVec<kIvLanes>::lanes;
    if constexpr (VL >= 2) {
      const I odd = odd_lanes<T, I>();
      for (; e + VL <= 2 * D; e += VL) {
        const T a = vload<T>(k + e), b = vload<T>(md + e);
        vstore(k + e, odd ? lsub_up<F>(a, b) : lsub_dn<F>(a, b));
      }
    }
#endif
    for (; e < 2 * D; ++e) {
      Iv& x = row[e / 2];
      if (e & 1) x.hi = lsub_up<F>(x.hi, md[e]);
      else x.lo = lsub_dn<F>(x.lo, md[e]);
    }
  }
}

// ---- Tiny exps (theory/interval_kernel.md, "Tiny exps"). An exp whose argument
// is below kTinyArg is enclosed in [0, kTiny]: wider than need be, still an
// enclosure, and never subnormal, nor are the weights and products made of it.
// Why: on Intel CPUs an operation with a subnormal operand or result runs as a
// microcode assist (on the order of a hundred cycles), and a far-off key's exp
// (e^-745 and below: [0, eta]) fed subnormals to the softmax's divisions and, as
// a weight a few eta wide, to every fused multiply-add of the aggregate: 85% of
// the tier's time on a Xeon, a tenth of its rate there. e^kTinyArg < kTiny
// (416 / ln 2 = 600.16; checked in Arb by tests/gpu/interval_kernel_test.cpp).
inline constexpr double kTiny = 0x1p-600, kTinyArg = -416.0;

// ---- Midpoint-radius form (theory/interval_kernel.md, "Midpoint-radius products").
// An enclosure [lo, hi] becomes a point m and a radius r >= max(m - lo, hi - m)
// (any m works: r is rounded up). Not finite (or NaN): m = 0, r = +inf.
template <int F, class T>
ICLCERT_HD inline void to_midrad(T lo, T hi, T& m, T& r) {
  const auto finite = (lo > -kInf) & (hi < kInf);
  const T mid = 0.5 * lo + 0.5 * hi;
  m = finite ? mid : vsplat<T>(0.0);
  r = finite ? vmax2(lsub_up<F>(mid, lo), lsub_up<F>(hi, mid)) : vsplat<T>(kInf);
}
template <int F>
ICLCERT_HD inline void to_midrad(Iv x, double& m, double& r) {
  to_midrad<F, double>(x.lo, x.hi, m, r);
}

// The operand on the key (value) side of a product, per element: the midpoint m,
// A = |m| + r and B = r + g |m| rounded up, g = n 2^-52 >= gamma_n for the n
// products of one midpoint dot product (the midpoint's rounding error folded in).
template <int F, class T>
ICLCERT_HD inline void key_side(T lo, T hi, double g, T& m, T& a, T& b) {
  T r;
  to_midrad<F>(lo, hi, m, r);
  const T am = vabs(m);
  a = ladd_up<F>(am, r);
  b = (F & kFaultNoMidpointError) != 0 ? r : ladd_up<F>(r, lmul_up<F>(vsplat<T>(g), am));
}
template <int F>
ICLCERT_HD inline void key_side(Iv x, double g, double& m, double& a, double& b) {
  key_side<F, double>(x.lo, x.hi, g, m, a, b);
}

// The enclosure [lo, hi] of a product x.y from the midpoint sum sm = fl(sum xm ym)
// (n_mid products) and the radius sum sr = fl(sum of n_rad nonnegative products):
//   |x.y - sm| <= (1 + n_rad 2^-52) sr + (n_rad + n_mid) eta.
template <int F, class T>
ICLCERT_HD inline void from_midrad(T sm, T sr, int n_rad, int n_mid, T& lo, T& hi) {
  T U = sr;
  if constexpr ((F & kFaultNoRadiusFactor) == 0) {
    const double f = 1.0 + static_cast<double>(n_rad) * 0x1p-52;  // exact: 1 + 2 n_rad u
    U = ladd_up<F>(lmul_up<F>(sr, vsplat<T>(f)), vsplat<T>(static_cast<double>(n_rad + n_mid) * kDenormMin));
  }
  const auto ok = (sm - sm == 0) & (U < kInf);  // false for NaN and infinities
  lo = ok ? lsub_dn<F>(sm, U) : vsplat<T>(-kInf);
  hi = ok ? ladd_up<F>(sm, U) : vsplat<T>(kInf);
}
template <int F>
ICLCERT_HD inline Iv from_midrad(double sm, double sr, int n_rad, int n_mid) {
  Iv r;
  from_midrad<F, double>(sm, sr, n_rad, n_mid, r.lo, r.hi);
  return r;
}

// ---- The lane exp (theory/interval_kernel.md, "The lane exp"): exp over
// X = [a, b] with n = an integer <= a / ln 2 so that r = x - n ln 2 lies in
// [0, kLaneRho] for x in X and r_lo <= kLaneRhoLo (checked per lane), the
// degree-17 Taylor polynomial at r_lo with positive coefficients (monotone, no
// division), the factor exp(r_hi - r_lo), and 2^n. Lanes that fail the check
// (wide X, out of range, NaN) take IvArith<F>::exp.
inline constexpr double kLaneRho = 0.703125;       // 45/64 >= ln 2 + the reduction's slack
inline constexpr double kLaneRhoLo = 0.6932;       // >= ln 2 (1 + 2^-20 + 2e-13) + 2^-51: the largest r_lo
inline constexpr double kLaneExpRhoLoUp = 2.00011;  // >= e^0.6932 = 2.000106...
inline constexpr int kLaneExpDegree = 17;

// E_K >= e^rho rho^(K+1) / (K+1)!, rho = kLaneRhoLo: the Taylor remainder at r_lo.
template <int K>
constexpr double lane_exp_remainder_bound() {
  return exp_remainder_bound_at<K>(kLaneRhoLo, kLaneExpRhoLoUp);
}

// 2^n1 and 2^n2 with n1 = trunc(n / 2), n2 = n - n1, for integer-valued n with
// |n| <= 1076 (both normal powers of two).
template <class T, class I>
ICLCERT_HD inline void pow2_halves(T n, T& s1, T& s2) {
  if constexpr (is_scalar_lane<T>()) {
    const int ni = static_cast<int>(n), n1 = ni / 2, n2 = ni - n1;
    s1 = pow2(n1);
    s2 = pow2(n2);
  }
#ifdef ICLCERT_IV_HOST_VECTORS
  else {
    const I ni = __builtin_convertvector(n, I), n1 = ni / 2, n2 = ni - n1;
    s1 = (T)((n1 + 1023) << 52);  // the bits of 2^n1, reinterpreted
    s2 = (T)((n2 + 1023) << 52);
  }
#endif
}

// x[l] <- lower ends and y[l] <- upper ends of exp([x[l], y[l]]) for U rows of W
// lanes (U W contiguous doubles). The U rows' lane vectors are independent; every
// step runs over all of them, so that their operation chains interleave.
template <int F, int W, int U = 1, int K = kLaneExpDegree, class P>
ICLCERT_HD inline void lanes_exp(P x, P y) {
  using T = typename LaneVec<W>::type;
  using I = typename LaneVec<W>::index;
  constexpr int VL = LaneVec<W>::lanes, S = U * W / VL;
  constexpr double e = (F & kFaultHalfExpBound) != 0 ? lane_exp_remainder_bound<K>() / 2 : lane_exp_remainder_bound<K>();
  const T zero = vsplat<T>(0.0), one = vsplat<T>(1.0);
  T nn[S], rl[S], rh[S], good[S], tiny[S];  // good: 1 on the lane path; tiny: 1 where exp(b) < kTiny
  ICLCERT_IV_UNROLL
  for (int j = 0; j < S; ++j) {
    const T a = vload<T>(x + j * VL), b = vload<T>(y + j * VL);
    const auto in = (b >= kTinyArg) & (b <= kOverflowArg) & (b - a <= 0.0078125);  // false for NaN
    const T aa = in ? a : zero, bb = in ? b : zero;
    // floor(a log2e - 2^-20) via the 1.5 * 2^52 trick (round to nearest of t - 1/2).
    const T t = aa * kLog2e - (0.5 + 0x1p-20);
    nn[j] = (t + 6755399441055744.0) - 6755399441055744.0;
    // r = x - n kLn2Hi - n c2, c2 in [kLn2LoDn, kLn2LoUp]: n kLn2Hi is exact, and
    // on a lane that passes the check below the rest is computed to within
    // 0.71 2^-52 (theory/interval_kernel.md, "The lane exp"), so 1.5 2^-52 either
    // side (after a rounding of at most 2^-54) encloses it without outward steps.
    const T nh = nn[j] * kLn2Hi;
    const T nc = nn[j] * kLn2LoDn;
    T lo = (aa - nh) - nc, hi = (bb - nh) - nc;
    if constexpr ((F & kFaultNearest) == 0) {
      lo = lo - 0x1.8p-52;
      hi = hi + 0x1.8p-52;
    }
    const auto ok = in & (lo >= 0) & (lo <= kLaneRhoLo) & (hi <= kLaneRho);
    // b < kTinyArg: exp(x) <= e^b < kTiny on the whole interval, so [0, kTiny] (the
    // score gaps beyond 416 of a peaked softmax row; see kTiny).
    tiny[j] = b < kTinyArg ? one : zero;
    rl[j] = ok ? lo : zero;
    rh[j] = ok ? hi : zero;
    good[j] = ok ? one : zero;
  }
  // One Horner chain at the lower end, in round to nearest with fused
  // multiply-adds and the lower coefficients RD(1/k!), then a relative widening
  // (theory/interval_kernel.md, "The lane exp"): |p - Pc(rl)| <= (2 rl + 1) u Pc
  // (1 + 2^-40) + 2K eta, so p (1 - 4u) <= Pc(rl) <= exp(rl) and exp(rl) <=
  // p (1 + 8u) + E. The upper end is exp(rh) = exp(rl) exp(rh - rl) <= (p (1 + 8u)
  // + E)(1 + delta + delta^2 / 2 + delta^3 / 4) with delta = RU(rh - rl) in [0, 1].
  T p[S];
  ICLCERT_IV_UNROLL
  for (int j = 0; j < S; ++j) p[j] = vsplat<T>(inv_factorial(K).lo);
  ICLCERT_IV_UNROLL
  for (int k = K - 1; k >= 0; --k) {
    const T c = vsplat<T>(inv_factorial(k).lo);
    ICLCERT_IV_UNROLL
    for (int j = 0; j < S; ++j) p[j] = vfma(p[j], rl[j], c);
  }
  ICLCERT_IV_UNROLL
  for (int j = 0; j < S; ++j) {
    T pl, ph;
    if constexpr ((F & kFaultNearest) == 0) {
      // Every quantity below is >= 1/2 and each is one rounding to nearest of
      // positive terms, so a-priori factors replace the outward steps
      // (theory/interval_kernel.md, "The lane exp"): with the 6 roundings the
      // computed upper end is >= (p (1 + 8u) + E) G (1 - u)^6 (1 + 16u) >= the
      // exact one, G = 1 + delta (1 + delta (1/2 + delta / 4)). The lower end
      // RN(p (1 - 8u)) <= p (1 - 8u)(1 + u) < p (1 - 4u).
      const T delta = lsub_up<F>(rh[j], rl[j]);
      const T grow = vfma(delta, vfma(delta, vfma(delta, vsplat<T>(0.25), vsplat<T>(0.5)), one), one);
      ph = (vfma(p[j], vsplat<T>(1 + 0x1p-50), vsplat<T>(e)) * grow) * (1 + 0x1p-49);
      pl = p[j] * (1 - 0x1p-50);
    } else {
      const T delta = rh[j] - rl[j];
      ph = (p[j] + e) * (1.0 + delta * (1.0 + delta * (0.5 + delta * 0.25)));
      pl = p[j];
    }
    // p 2^n with 2^n = 2^n1 2^n2: p in [1/2, 4] and |n1| <= 539, so p 2^n1 is
    // normal and exact; the second product is exact when its result is normal,
    // within eta/2 when it is subnormal, and +inf when it overflows. So
    // [RN - eta, RN + eta] encloses it, with an overflowed lower end at DBL_MAX.
    T elo, ehi;
#if defined(ICLCERT_IV_EMBEDDED_ROUNDING)
    if constexpr (sizeof(T) == 64) {
      // vscalefpd: p 2^n with one rounding to nearest of the exact product, the
      // value of the two products below (the first is exact).
      elo = (T)_mm512_mask_scalef_pd((__m512d)pl, (__mmask8)-1, (__m512d)pl, (__m512d)nn[j]);
      ehi = (T)_mm512_mask_scalef_pd((__m512d)ph, (__mmask8)-1, (__m512d)ph, (__m512d)nn[j]);
    } else
#endif
    {
      T s1, s2;
      pow2_halves<T, I>(nn[j], s1, s2);
      elo = (pl * s1) * s2;
      ehi = (ph * s1) * s2;
    }
    if constexpr ((F & kFaultNearest) == 0) {
      elo = vmin2(elo - kDenormMin, vsplat<T>(kMaxDouble));
      ehi = ehi + kDenormMin;
    }
    elo = vmax2(elo, zero);
    // Lanes off the lane path keep their arguments for the fallback below.
    const auto ok = good[j] != 0, under = tiny[j] != 0;
    vstore(x + j * VL, ok ? elo : under ? zero : vload<T>(x + j * VL));
    vstore(y + j * VL, ok ? ehi : under ? vsplat<T>(kTiny) : vload<T>(y + j * VL));
    good[j] = good[j] + tiny[j];  // 1: done (the two exclude each other: `in` needs b >= kTinyArg)
  }
  // Every lane done (the usual case): return. Else the others take IvArith's
  // exp, lane by lane.
  T all = good[0];
  ICLCERT_IV_UNROLL
  for (int j = 1; j < S; ++j) all = all * good[j];
  double flags[VL];
  vstore(flags, all);
  bool every = true;
  for (int l = 0; l < VL; ++l) every = every & (flags[l] != 0);
  if (every) return;
  double lane_ok[U * W];
  ICLCERT_IV_UNROLL
  for (int j = 0; j < S; ++j) vstore(lane_ok + j * VL, good[j]);
  for (int l = 0; l < U * W; ++l)
    if (lane_ok[l] == 0) {
      const Iv v = IvArith<F>::exp(Iv{x[l], y[l]});
      x[l] = max2(v.lo, 0.0);
      y[l] = v.hi;
    }
}

// ---- One panel of W = kIvLanes query columns.

// Scratch of one panel (doubles), carved by the caller.
struct PanelScratch {
  DPtr qm, qa, qr;  // D x W: query midpoints, |midpoints|, radii
  DPtr tl, th;      // n x W: scores, then exps, then weights (lower, upper ends)
  DPtr sl, sh;      // n x W: prefix sums
};
ICLCERT_HD inline long panel_scratch_doubles(int D, int n) { return 3L * D * kIvLanes + 4L * n * kIvLanes; }
// W: the panel's lanes (kIvLanes, or fewer for the last columns of a row).
ICLCERT_HD inline PanelScratch carve_panel(DPtr p, int D, int n, int W = kIvLanes) {
  PanelScratch s;
  s.qm = p;
  s.qa = s.qm + static_cast<long>(D) * W;
  s.qr = s.qa + static_cast<long>(D) * W;
  s.tl = s.qr + static_cast<long>(D) * W;
  s.th = s.tl + static_cast<long>(n) * W;
  s.sl = s.th + static_cast<long>(n) * W;
  s.sh = s.sl + static_cast<long>(n) * W;
  return s;
}

// Keys and values in midpoint-radius form: m, and the A / B sides of key_side.
// Keys are feature-major with stride P >= n (m[k * P + i]: the score loop reads
// KB consecutive keys of one feature); values are key-major (m[i * D + c]: the
// aggregate loop reads CB consecutive features of one key).
struct SideArrays {
  DPtr m, a, b;
};

// The even and the odd lanes of the 2 VL doubles a, b (Iv pairs to lo and hi).
template <class T, class I>
ICLCERT_HD inline void deinterleave(T a, T b, T& even, T& odd) {
  if constexpr (is_scalar_lane<T>()) {
    even = a;
    odd = b;
  }
#ifdef ICLCERT_IV_HOST_VECTORS
  else {
    constexpr int VL = sizeof(T) / sizeof(double);
    I ie, io;
    for (int l = 0; l < VL; ++l) ie[l] = 2 * l, io[l] = 2 * l + 1;
    even = __builtin_shuffle(a, b, ie);
    odd = __builtin_shuffle(a, b, io);
  }
#endif
}

// Side arrays of the keys K (n rows of D enclosures, row-major) in feature-major
// form with stride P: transposed first (lo into m, hi into a), then key_side on
// whole lane vectors along each feature row.
template <int F, int W>
ICLCERT_HD inline void build_key_side(CIvPtr K, int n, int D, int P, double g, const SideArrays& ks) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < D; ++k) {
      ks.m[static_cast<long>(k) * P + i] = K[static_cast<long>(i) * D + k].lo;
      ks.a[static_cast<long>(k) * P + i] = K[static_cast<long>(i) * D + k].hi;
    }
  for (int k = 0; k < D; ++k) {
    const long row = static_cast<long>(k) * P;
    int i = 0;
    for (; i + VL <= n; i += VL) {
      T m, a, b;
      key_side<F>(vload<T>(ks.m + row + i), vload<T>(ks.a + row + i), g, m, a, b);
      vstore(ks.m + row + i, m);
      vstore(ks.a + row + i, a);
      vstore(ks.b + row + i, b);
    }
    for (; i < n; ++i) key_side<F, double>(ks.m[row + i], ks.a[row + i], g, ks.m[row + i], ks.a[row + i], ks.b[row + i]);
  }
}

// Side arrays of the values V (n rows of D enclosures, row-major) in key-major
// form: element e = i D + c of m, a, b from V's element e, VL at a time.
template <int F, int W>
ICLCERT_HD inline void build_value_side(CIvPtr V, int n, int D, double g, const SideArrays& vs) {
  const long count = static_cast<long>(n) * D;
  long e = 0;
#ifndef ICLCERT_IV_INTERLEAVE  // (interleaved, the enclosures are not contiguous doubles: one at a time below)
  using T = typename LaneVec<W>::type;
  using I = typename LaneVec<W>::index;
  constexpr int VL = LaneVec<W>::lanes;
  const double* src = &V[0].lo;  // Iv is two doubles, lo then hi
  for (; e + VL <= count; e += VL) {
    T lo, hi, m, a, b;
    deinterleave<T, I>(vload<T>(src + 2 * e), vload<T>(src + 2 * e + VL), lo, hi);
    key_side<F>(lo, hi, g, m, a, b);
    vstore(vs.m + e, m);
    vstore(vs.a + e, a);
    vstore(vs.b + e, b);
  }
#endif
  for (; e < count; ++e) key_side<F>(V[e], g, vs.m[e], vs.a[e], vs.b[e]);
}

// The register block of both products: for u < KB and the panel's G lane
// vectors, the midpoint sums am[u] = sum_t vm_t sm_t[u] and the radius sums
// ar[u] = sum_t (|vm_t| sb_t[u] + vr_t sa_t[u]) over t < len, as fused
// multiply-adds in round to nearest (theory/interval_kernel.md, "Midpoint-radius
// products"). The lane side (vm, |vm| in va, vr) holds W doubles per t; the
// scalar side's element u of step t is at sm[t * stride + u] (and sa, sb).
template <int W, int KB>
ICLCERT_HD inline void midrad_block(int len, CDPtr vm, CDPtr va, CDPtr vr, CDPtr sm, CDPtr sa, CDPtr sb, long stride,
                                    typename LaneVec<W>::type (&am)[KB][W / LaneVec<W>::lanes],
                                    typename LaneVec<W>::type (&ar)[KB][W / LaneVec<W>::lanes]) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes, G = W / VL;
  ICLCERT_IV_UNROLL
  for (int u = 0; u < KB; ++u)
    ICLCERT_IV_UNROLL
    for (int g = 0; g < G; ++g) am[u][g] = ar[u][g] = vsplat<T>(0.0);
  for (int t = 0; t < len; ++t) {
    const long e = t * stride;
    ICLCERT_IV_UNROLL
    for (int g = 0; g < G; ++g) {
      const long l = static_cast<long>(t) * W + g * VL;
      const T m = vload<T>(vm + l), a = vload<T>(va + l), r = vload<T>(vr + l);
      ICLCERT_IV_UNROLL
      for (int u = 0; u < KB; ++u) {
        am[u][g] = vfma(m, vsplat<T>(sm[e + u]), am[u][g]);
        ar[u][g] = vfma(r, vsplat<T>(sa[e + u]), vfma(a, vsplat<T>(sb[e + u]), ar[u][g]));
      }
    }
  }
}

// Scores of the panel: t[i][l] encloses q_l . k_i. Midpoint sum: D products;
// radius sum: sum_k |qm| B + qr A, 2D nonnegative products.
template <int F, int W, int KB>
ICLCERT_HD inline void panel_scores(const SideArrays& K, int P, int D, int n, int i0, const PanelScratch& s) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes, G = W / VL;
  for (; i0 + KB <= n; i0 += KB) {
    T am[KB][G], ar[KB][G];
    midrad_block<W, KB>(D, s.qm, s.qa, s.qr, K.m + i0, K.a + i0, K.b + i0, P, am, ar);
    ICLCERT_IV_UNROLL
    for (int u = 0; u < KB; ++u)
      for (int g = 0; g < G; ++g) {
        T lo, hi;
        from_midrad<F>(am[u][g], ar[u][g], 2 * D, D, lo, hi);
        vstore(s.tl + (i0 + u) * W + g * VL, lo);
        vstore(s.th + (i0 + u) * W + g * VL, hi);
      }
  }
  if constexpr (KB > 1) panel_scores<F, W, KB / 2>(K, P, D, n, i0, s);
}

// Leave-one-out sums with an a-priori bound (theory/interval_kernel.md, "Softmax
// in lanes"): for nonnegative doubles, o = RN(prefix + suffix) with both partial
// sums in round to nearest satisfies |o - O| <= gamma_n O for the exact sum O of
// the other n - 1 terms (no underflow error in additions), so O lies in
// [o (1 - n 2^-52), o (1 + n 2^-52)], and RN(o (1 -+ (n + 2) 2^-52)) are outside
// that (when o is subnormal, every partial sum was exact and O = o). An
// overflowed o gives the lower bound 0 (never used: the lower ends summed here
// are at most 1 each). factor_dn, factor_up: 1 -+ (n + 2) 2^-52.
template <int F, class T>
ICLCERT_HD inline T loo_dn(T o, T factor_dn) {
  if constexpr ((F & kFaultNearest) != 0) return o;
  else return o < kInf ? o * factor_dn : vsplat<T>(0.0);
}
template <int F, class T>
ICLCERT_HD inline T loo_up(T o, T factor_up) {
  if constexpr ((F & kFaultNearest) != 0) return o;
  else return o * factor_up;
}

// The softmax enclosure of interval_certify.hpp's softmax_row (theory/
// softmax_enclosure.md and interval_kernel.md, "Softmax in lanes"), for the W
// lanes at once: scores in s.tl / s.th become the weights, in midpoint-radius
// form (weights_to_midrad's layout: midpoint in s.tl, radius in s.th, |midpoint|
// in s.sl), or with kMidrad = false as lower and upper ends. Four passes over
// the rows: the max; the exps and the prefix sums of their ends; descending, the
// weights and the suffix sums of theirs; ascending, the sum-to-one
// intersection. Returns false when step 2's intersection was empty in some lane.
template <int F, int W, bool kMidrad = true>
ICLCERT_HD inline bool panel_softmax(int n, const PanelScratch& s) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes, G = W / VL;
  // Local copies: stores through double* could otherwise alias s's fields.
  const DPtr tl = s.tl;
  const DPtr th = s.th;
  const DPtr sl = s.sl;
  const DPtr sh = s.sh;
  const T zero = vsplat<T>(0.0), one = vsplat<T>(1.0);
  // Selects only, every operation computed unconditionally: a division by 0
  // gives inf or NaN, which the select discards. fin = 1 in a lane whose scores
  // are all finite.
  T m[G], fin[G], rl[G], rh[G];
  for (int g = 0; g < G; ++g) m[g] = vsplat<T>(-kInf), fin[g] = one;
  for (int i = 0; i < n; ++i)
    for (int g = 0; g < G; ++g) {
      const T lo = vload<T>(tl + i * W + g * VL), hi = vload<T>(th + i * W + g * VL);
      fin[g] = ((lo > -kInf) & (hi < kInf)) ? fin[g] : zero;  // 0 for NaN too
      m[g] = vmax2(m[g], 0.5 * lo + 0.5 * hi);
    }
  const T f_dn = vsplat<T>(1 - static_cast<double>(n + 2) * 0x1p-52);  // exact
  const T f_up = vsplat<T>(1 + static_cast<double>(n + 2) * 0x1p-52);
  // Step 1. E_i = exp(T_i - m), in place (lo(E_i) <= exp(mid_i - m) <= 1), and
  // the prefix sums of lo(E) and hi(E) in round to nearest into s.sl / s.sh.
  // kExpRows rows (contiguous in the panel) go through one lanes_exp, so that
  // their Horner chains interleave.
  for (int g = 0; g < G; ++g) rl[g] = rh[g] = zero, m[g] = fin[g] != 0 ? m[g] : zero;
  // A one-lane panel's rows are contiguous: on the host its exps run with the
  // rows in the lanes (lanes_exp is lane by lane, so the values are the same).
#ifdef ICLCERT_IV_HOST_VECTORS
  constexpr int kRowLanes = W == 1 ? kIvLanes : 1;
#else
  constexpr int kRowLanes = 1;
#endif
  for (int i = 0; i < n;) {
    const int rows = i + kExpRows * kRowLanes <= n ? kExpRows * kRowLanes
                     : i + kRowLanes <= n         ? kRowLanes
                     : i + kExpRows <= n          ? kExpRows
                                                  : 1;
    for (int u = 0; u < rows; ++u)
      for (int g = 0; g < G; ++g) {
        const long e = static_cast<long>(i + u) * W + g * VL;
        vstore(tl + e, lsub_dn<F>(vload<T>(tl + e), m[g]));
        vstore(th + e, lsub_up<F>(vload<T>(th + e), m[g]));
      }
    if constexpr (kRowLanes > 1) {
      if (rows == kExpRows * kRowLanes) lanes_exp<F, kRowLanes, kExpRows>(tl + i, th + i);
      else if (rows == kRowLanes) lanes_exp<F, kRowLanes>(tl + i, th + i);
      else if (rows == kExpRows) lanes_exp<F, W, kExpRows>(tl + i * W, th + i * W);
      else lanes_exp<F, W>(tl + i * W, th + i * W);
    } else {
      if (rows == kExpRows) lanes_exp<F, W, kExpRows>(tl + i * W, th + i * W);
      else lanes_exp<F, W>(tl + i * W, th + i * W);
    }
    for (int u = 0; u < rows; ++u)
      for (int g = 0; g < G; ++g) {
        const long e = static_cast<long>(i + u) * W + g * VL;
        vstore(sl + e, rl[g]);
        vstore(sh + e, rh[g]);
        rl[g] = rl[g] + vload<T>(tl + e);
        rh[g] = rh[g] + vload<T>(th + e);
      }
    i += rows;
  }
  // Descending: with O_i the others' sum, w_i = E_i / (E_i + O_i), increasing in
  // E_i and decreasing in O_i: W_i = [lo(E) / (lo(E) + hi(O)), hi(E) / (hi(E) + lo(O))].
  // 0/0 and inf/inf (NaN) fall to the trivial ends 0 and 1. The suffix sums of
  // the weights' ends (those after row i) replace E's prefix sums in s.sl / s.sh.
  T wsl[G], wsh[G];
  for (int g = 0; g < G; ++g) rl[g] = rh[g] = wsl[g] = wsh[g] = zero;
  for (int i = n - 1; i >= 0; --i)
    for (int g = 0; g < G; ++g) {
      const long e = static_cast<long>(i) * W + g * VL;
      const T el = vload<T>(tl + e), eh = vload<T>(th + e);
      const T ol = loo_dn<F>(vload<T>(sl + e) + rl[g], f_dn), oh = loo_up<F>(vload<T>(sh + e) + rh[g], f_up);
      rl[g] = rl[g] + el;
      rh[g] = rh[g] + eh;
      const T ql = ldiv_dn<F>(el, ladd_up<F>(el, oh)), qh = ldiv_up<F>(eh, ladd_dn<F>(eh, ol));
      const T wl = fin[g] != 0 ? (ql >= 0 ? ql : zero) : zero, wh = fin[g] != 0 ? (qh <= 1 ? qh : one) : one;
      vstore(tl + e, wl);
      vstore(th + e, wh);
      vstore(sl + e, wsl[g]);
      vstore(sh + e, wsh[g]);
      wsl[g] = wsl[g] + wl;
      wsh[g] = wsh[g] + wh;
    }
  // Step 2, ascending: the weights sum to 1, so W_i meets [1 - hi(others),
  // 1 - lo(others)], the others' sums from the prefix (here) and suffix (stored)
  // sums of the step-1 weights; then midpoint-radius form, in place.
  T apart[G];  // 1 once some weight's two enclosures were disjoint
  for (int g = 0; g < G; ++g) rl[g] = rh[g] = apart[g] = zero;
  for (int i = 0; i < n; ++i)
    for (int g = 0; g < G; ++g) {
      const long e = static_cast<long>(i) * W + g * VL;
      const T ol = loo_dn<F>(rl[g] + vload<T>(sl + e), f_dn), oh = loo_up<F>(rh[g] + vload<T>(sh + e), f_up);
      const T wl = vload<T>(tl + e), wh = vload<T>(th + e);
      rl[g] = rl[g] + wl;
      rh[g] = rh[g] + wh;
      const T lo = vmax2(wl, lsub_dn<F>(one, oh)), hi = vmin2(wh, lsub_up<F>(one, ol));
      const auto meet = lo <= hi;
      apart[g] = meet ? apart[g] : one;
      if constexpr (kMidrad) {
        T mid, rad;
        to_midrad<F>(meet ? lo : wl, meet ? hi : wh, mid, rad);
        vstore(tl + e, mid);
        vstore(th + e, rad);
        vstore(sl + e, vabs(mid));
      } else {
        vstore(tl + e, meet ? lo : wl);
        vstore(th + e, meet ? hi : wh);
      }
    }
  double flags[W];
  for (int g = 0; g < G; ++g) vstore(flags + g * VL, apart[g]);
  bool ok = true;
  for (int l = 0; l < W; ++l) ok = ok && flags[l] == 0;
  return ok;
}

// Aggregates of the panel: out[l * D + c] encloses sum_i w_li v_ic, the weights
// as weights_to_midrad leaves them, values V (side arrays, key-major).
// Midpoint sum: n products; radius sum: sum_i |wm| B + wr A, 2n.
template <int F, int W, int CB>
ICLCERT_HD inline void panel_aggregate(const SideArrays& V, int D, int n, int c0, const PanelScratch& s,
                                       IvPtr out, int lanes) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes, G = W / VL;
  for (; c0 + CB <= D; c0 += CB) {
    T am[CB][G], ar[CB][G];
    midrad_block<W, CB>(n, s.tl, s.sl, s.th, V.m + c0, V.a + c0, V.b + c0, D, am, ar);
    ICLCERT_IV_UNROLL
    for (int u = 0; u < CB; ++u) {
      double lo[W], hi[W];
      for (int g = 0; g < G; ++g) {
        T tlo, thi;
        from_midrad<F>(am[u][g], ar[u][g], 2 * n, n, tlo, thi);
        vstore(lo + g * VL, tlo);
        vstore(hi + g * VL, thi);
      }
      for (int l = 0; l < lanes; ++l) out[static_cast<long>(l) * D + c0 + u] = Iv{lo[l], hi[l]};
    }
  }
  if constexpr (CB > 1) panel_aggregate<F, W, CB / 2>(V, D, n, c0, s, out, lanes);
}

// Weights (lower, upper ends in s.tl / s.th) to midpoint (s.tl), radius (s.th)
// and |midpoint| (s.sl), in place (the linear kernel's weights have either sign).
template <int F, int W>
ICLCERT_HD inline void weights_to_midrad(int n, const PanelScratch& s) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes;
  for (long e = 0; e < static_cast<long>(n) * W; e += VL) {
    T m, r;
    to_midrad<F>(vload<T>(s.tl + e), vload<T>(s.th + e), m, r);
    vstore(s.tl + e, m);
    vstore(s.th + e, r);
    vstore(s.sl + e, vabs(m));
  }
}

#ifdef ICLCERT_IV_HOST_VECTORS
// A one-lane panel (the last column of a row, the probe's in a final-only last
// layer) with the vectors along the other side: keys in the scores, features in
// the aggregates. Each output is the same sum, in the same order, with the same
// fused multiply-adds as the one-lane midrad_block computes it, so the values do
// not change; only KB VL outputs run at once instead of one. Return where the
// scalar path takes over (the last keys, the last features).
// midrad_block turned around: KB vectors of VL outputs along the scalar side,
// am[u] = sum_t bm_t vm[t stride + u VL ..] and ar[u] = sum_t (ba_t vb[..] +
// br_t va[..]), with the one-lane side's values bm, ba = |bm|, br at t.
template <int KB>
inline void column_block(int len, CDPtr bm, CDPtr ba, CDPtr br, CDPtr vm, CDPtr va, CDPtr vb, long stride,
                         typename LaneVec<kIvLanes>::type (&am)[KB], typename LaneVec<kIvLanes>::type (&ar)[KB]) {
  using T = typename LaneVec<kIvLanes>::type;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  for (int u = 0; u < KB; ++u) am[u] = ar[u] = vsplat<T>(0.0);
  for (int t = 0; t < len; ++t) {
    const T m = vsplat<T>(bm[t]), a = vsplat<T>(ba[t]), r = vsplat<T>(br[t]);
    const long e = t * stride;
    ICLCERT_IV_UNROLL
    for (int u = 0; u < KB; ++u) {
      am[u] = vfma(m, vload<T>(vm + e + u * VL), am[u]);
      ar[u] = vfma(r, vload<T>(va + e + u * VL), vfma(a, vload<T>(vb + e + u * VL), ar[u]));
    }
  }
}
template <int F, int KB>
inline int column_scores(const SideArrays& K, int P, int D, int n, int i0, const PanelScratch& s) {
  using T = typename LaneVec<kIvLanes>::type;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  for (; i0 + KB * VL <= n; i0 += KB * VL) {
    T am[KB], ar[KB];
    column_block<KB>(D, s.qm, s.qa, s.qr, K.m + i0, K.a + i0, K.b + i0, P, am, ar);
    for (int u = 0; u < KB; ++u) {
      T lo, hi;
      from_midrad<F>(am[u], ar[u], 2 * D, D, lo, hi);
      vstore(s.tl + i0 + u * VL, lo);
      vstore(s.th + i0 + u * VL, hi);
    }
  }
  if constexpr (KB > 1) return column_scores<F, KB / 2>(K, P, D, n, i0, s);
  else return i0;
}
template <int F, int CB>
inline int column_aggregate(const SideArrays& V, int D, int n, int c0, const PanelScratch& s, IvPtr out) {
  using T = typename LaneVec<kIvLanes>::type;
  constexpr int VL = LaneVec<kIvLanes>::lanes;
  for (; c0 + CB * VL <= D; c0 += CB * VL) {
    T am[CB], ar[CB];
    column_block<CB>(n, s.tl, s.sl, s.th, V.m + c0, V.a + c0, V.b + c0, D, am, ar);
    for (int u = 0; u < CB; ++u) {
      T lo, hi;
      from_midrad<F>(am[u], ar[u], 2 * n, n, lo, hi);
      double l[VL], h[VL];
      vstore(l, lo);
      vstore(h, hi);
      for (int c = 0; c < VL; ++c) out[c0 + u * VL + c] = Iv{l[c], h[c]};
    }
  }
  if constexpr (CB > 1) return column_aggregate<F, CB / 2>(V, D, n, c0, s, out);
  else return c0;
}
#endif

// One panel of W lanes: queries q (lanes rows of D enclosures, row-major; lanes <= W, the
// rest padded with zeros), keys K (feature-major, stride P) and values V
// (key-major) as side arrays with n entries.
// out: lanes rows of D aggregates. Returns false on an empty intersection.
template <int F, int W>
ICLCERT_HD inline bool attend_panel(CIvPtr q, int lanes, const SideArrays& K, const SideArrays& V, int P, int D, int n,
                                    int softmax, const PanelScratch& s, IvPtr out) {
  using T = typename LaneVec<W>::type;
  constexpr int VL = LaneVec<W>::lanes;
  for (int k = 0; k < D; ++k)
    for (int l = 0; l < W; ++l) {
      double m = 0, r = 0;
      if (l < lanes) to_midrad<F>(q[static_cast<long>(l) * D + k], m, r);
      s.qm[k * W + l] = m;
      s.qa[k * W + l] = labs(m);
      s.qr[k * W + l] = r;
    }
  int i0 = 0, c0 = 0;  // where the one-lane panel's scalar products start
#ifdef ICLCERT_IV_HOST_VECTORS
  if constexpr (W == 1 && kHostLanes >= 2) i0 = column_scores<F, kKeyBlock>(K, P, D, n, 0, s);
#endif
  panel_scores<F, W, kKeyBlock>(K, P, D, n, i0, s);
  bool ok = true;
  if (softmax) {
    ok = panel_softmax<F, W>(n, s);  // leaves the weights in midpoint-radius form
  } else {
    const T nk = vsplat<T>(static_cast<double>(n));
    for (long e = 0; e < static_cast<long>(n) * W; e += VL) {
      vstore(s.tl + e, ldiv_dn<F>(vload<T>(s.tl + e), nk));
      vstore(s.th + e, ldiv_up<F>(vload<T>(s.th + e), nk));
    }
    weights_to_midrad<F, W>(n, s);
  }
#ifdef ICLCERT_IV_HOST_VECTORS
  if constexpr (W == 1 && kHostLanes >= 2) c0 = column_aggregate<F, 2>(V, D, n, 0, s, out);
#endif
  panel_aggregate<F, W, kKeyBlock>(V, D, n, c0, s, out, lanes);
  return ok;
}

#ifdef ICLCERT_IV_HOST_VECTORS
#pragma GCC diagnostic pop
#endif

}  // namespace iv_attn
}  // inline namespace ICLCERT_IV_ISA_NS
}  // namespace iclcert::gpu
