// The batched recursion's one kernel source: the per-prompt recursion of spec
// sections 3-5 as __host__ __device__ functions over plain arrays, templated on
// float / double. nvcc compiles them into the CUDA kernel (batch_cuda.cu); the CPU
// backend (batch_cpu.cpp) runs the very same functions over the prompts of a batch.
//
// This is a second copy of the recursion math (numerics/ is the reference). It is
// tested against run_recursion<double> with the tolerance derived in
// theory/batch_path.md. Nothing here is rigorous: it is the float path whose
// distance from the enclosures the validation (claim G1) measures.
//
// Layout (per prompt): the state is stored transposed, ZT[k * P + j] = Z(j, k),
// with R = N + 1 token columns padded to P (a multiple of kLanes); padding columns
// are never keys and never read back. Attention is computed for all query columns
// at once, with the queries on the vector axis: every sum (over features k or
// keys i) runs in sequence, in the order of numerics/attention.hpp, and the lanes
// never mix. So the order of every float operation is fixed by this source, not
// by the vector width the compiler picks: results do not depend on the x86-64 level (of those with FMA),
// the thread count or the chunking (theory/batch_path.md, "Determinism").
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "gpu/hd.hpp"

#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__) && defined(__SSE2__)
#include <immintrin.h>  // the host packs' broadcasts and fused multiply-adds
#endif

// The functions below live in the inline namespace ICLCERT_BATCH_ISA_NS: the CPU
// backend compiles them once per x86-64 level (gpu/batch_cpu_{base,v3,v4}.cpp,
// each with its own -march; gpu/batch_cpu_level.hpp), and a function that one of
// those files does not inline must not be merged by the linker with another
// level's copy of the same name. Files other than those take the namespace of the
// interval headers' level when they set one (gpu/certify_host_*.cpp), else
// batch_default. The types that cross files (ModelView, LayerRecord) stay outside.
#ifndef ICLCERT_BATCH_ISA_NS
#ifdef ICLCERT_IV_ISA_NS
#define ICLCERT_BATCH_ISA_NS ICLCERT_IV_ISA_NS
#else
#define ICLCERT_BATCH_ISA_NS batch_default
#endif
#endif

namespace iclcert::gpu {

inline constexpr int kLanes = 16;

enum LayerKind : int { kReducedLayer = 0, kDenseLayer = 1 };  // full layers arrive as dense

// A model flattened for one arithmetic T (see batch_model.hpp). Layer l's
// coefficients start at coeffs + offset[l]:
//   reduced: train beta, gamma, alpha, alpha', then probe beta, gamma, alpha, alpha'
//   dense  : per head S (D x D, row-major) then V (D x D)
template <class T>
struct ModelView {
  int d = 0, C = 0, layers = 0;
  int softmax = 1;              // 1 softmax, 0 linear
  int probe_is_key = 0;
  int probe_label_uniform = 0;  // probe label block starts at 1/C instead of 0
  const int* kind = nullptr;
  const int* heads = nullptr;
  const int* offset = nullptr;
  const T* coeffs = nullptr;
  long coeff_count = 0;
};

// Per prompt and depth t = 0..L: what the batch statistics are made of.
// Ratios use IEEE values: +inf for "den = 0 < num" and NaN for undefined.
template <class T>
struct LayerRecord {
  T fisher, gap_ratio, min_label_margin;
  T probe_margin, probe_alignment;     // NaN without a probe label
  T probe_attention_same_class;        // from layer t + 1; NaN at t = L or without a label
  std::int32_t prediction;             // argmax of the probe's label block, ties to the smallest class;
                                       // kNoPrediction when a logit of it is inf or NaN
};

// The prediction of a probe whose label block is not finite: the float arithmetic
// overflowed, and no class of it means anything.
inline constexpr std::int32_t kNoPrediction = -1;

inline namespace ICLCERT_BATCH_ISA_NS {

ICLCERT_HD inline int padded_tokens(int N) { return (N + 1 + kLanes - 1) / kLanes * kLanes; }

// Elements of T one prompt needs as scratch (state, next state, keys or queries,
// values, aggregate, the P x P weights, the columns' reciprocal weight sums, class
// means).
ICLCERT_HD inline long workspace_size(int d, int C, int N) {
  const long D = d + C, P = padded_tokens(N);
  return 5 * D * P + P * P + P + static_cast<long>(C) * d + d;
}

// a * b + c rounded once: IEEE fused multiply-add, correctly rounded on every
// platform, so the same value on the host and the device. The sums of the
// attention (scores, aggregates), the exp's polynomial and the reduced layer's
// update use it explicitly, the same calls on both sides; nothing else is fused
// (-ffp-contract=off, nvcc --fmad=false: theory/batch_path.md, "Determinism").
// On the host __builtin_fma is one vfmadd in the x86-64-v3 / v4 levels of
// the CPU backend (gpu/batch_cpu_v3.cpp, _v4.cpp). The x86-64 baseline level (no
// FMA in the ISA) defines ICLCERT_BATCH_UNFUSED: a product and a sum, each
// rounded, instead of libm's fma (correctly rounded but a call per lane, 10 to 30
// times slower): its values differ from the other levels' and the device's in the
// last bits (theory/batch_path.md, "Determinism"). Elsewhere (the tests'
// emulation of the CUDA arrangement, other architectures) fmadd is fused.
template <class T>
ICLCERT_HD inline T fmadd(T a, T b, T c) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return fmaf(a, b, c);
  else return fma(a, b, c);
#elif defined(ICLCERT_BATCH_UNFUSED)
  return a * b + c;
#else
  if constexpr (sizeof(T) == 4) return __builtin_fmaf(a, b, c);
  else return __builtin_fma(a, b, c);
#endif
}

// ---- exp: branch-free, so the CPU loop vectorises; identical on host and device.
// exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 (Cody-Waite, two-part
// ln 2), exp(r) by its Taylor polynomial on |r| <= ln(2)/2 + tiny. x is clamped to
// [kLo, 0] first: softmax calls it only on s - max s <= 0. Below kCut the result
// is 0 (theory/batch_path.md, "The exp's cut"): a weight that small (2^-92 in
// float, 2^-923 in double, next to the row's largest, 1) is far below the
// rounding of every sum it enters, and the products of weights near the
// subnormal range (exp(-87) ~ 2^-125) with the values made subnormal partial
// sums in the aggregate, which x86 CPUs compute by microcode assists, each about
// a hundred cycles: half the float time on the benchmark (issue 25).
template <class T>
struct ExpConstants;
template <>
struct ExpConstants<float> {
  static constexpr float kLo = -87.0f, kLog2e = 1.44269504f, kLn2Hi = 0.693145752f, kLn2Lo = 1.42860677e-06f;
  static constexpr float kCut = -64.0f;  // exp(-64) ~ 2^-92.3
  static constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  static constexpr int kDegree = 7, kMantissa = 23, kBias = 127;
};
template <>
struct ExpConstants<double> {
  static constexpr double kLo = -708.0, kLog2e = 1.4426950408889634, kLn2Hi = 0.693147180369123816,
                          kLn2Lo = 1.90821492927058770e-10;
  static constexpr double kCut = -640.0;  // exp(-640) ~ 2^-923.3
  static constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr int kDegree = 13, kMantissa = 52, kBias = 1023;
};

template <class T>
ICLCERT_HD inline T power_of_two(int n) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  const Bits bits = static_cast<Bits>(n + ExpConstants<T>::kBias) << ExpConstants<T>::kMantissa;
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

template <class T>
ICLCERT_HD inline T kernel_exp(T x) {
  using K = ExpConstants<T>;
  const bool cut = x < K::kCut;
  x = x < K::kLo ? K::kLo : (x > T(0) ? T(0) : x);
  const T shifted = fmadd<T>(x, K::kLog2e, K::kRound);  // rounds x / ln 2 to an integer
  const T n = shifted - K::kRound;
  const T r = fmadd<T>(n, -K::kLn2Lo, fmadd<T>(n, -K::kLn2Hi, x));
  // Horner on the Taylor series sum_k r^k / k!, k <= kDegree.
  const double inv_factorial[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
                                    1.0 / 479001600, 1.0 / 6227020800.0};
  T p = static_cast<T>(inv_factorial[K::kDegree]);
  for (int k = K::kDegree - 1; k >= 0; --k) p = fmadd<T>(p, r, static_cast<T>(inv_factorial[k]));
  const T e = p * power_of_two<T>(static_cast<int>(n));
  return cut ? T(0) : e;
}

// Attention with the queries on the vector axis: every loop below runs over
// query columns j in whole blocks of kLanes, and every sum runs over k or i in
// sequence, the order of numerics/attention.hpp (so in double the scores, the
// softmax sums and the aggregates are the core's, up to exp).

// Every loop runs over a panel of W = G * kLanes query columns at a time, G up
// to kGroup: the lanes of a panel are independent sums, so the adds of one lane's
// chain overlap with the others' (one chain alone would be bound by the latency
// of an add), and each sum keeps its own order, whatever the panel width: the
// values do not depend on kGroup.
#ifdef __CUDA_ARCH__
inline constexpr int kGroup = 1;  // one GPU thread per prompt: no vector lanes to fill (and faster nvcc)
#else
inline constexpr int kGroup = 5;
#endif

// Calls f.template operator()<G>(b) for the panels of P columns: whole panels of
// kGroup blocks, then one panel of the remaining blocks.
template <class F>
ICLCERT_HD inline void for_panels(int P, F&& f) {
  static_assert(kGroup == 1 || kGroup == 5, "the remainder switch below lists 1..kGroup-1");
  int b = 0;
  for (; b + kGroup * kLanes <= P; b += kGroup * kLanes) f.template operator()<kGroup>(b);
  if constexpr (kGroup > 1) {
    switch ((P - b) / kLanes) {
      case 4: f.template operator()<4>(b); break;
      case 3: f.template operator()<3>(b); break;
      case 2: f.template operator()<2>(b); break;
      case 1: f.template operator()<1>(b); break;
      default: break;
    }
  }
}

// Consecutive query columns as one value, a "pack" of kPackLanes<T> lanes: on
// the host a 64-byte GCC vector (plain lane loops kept a panel's accumulators on
// the stack, a store and a reload per step; vectors stay in registers), on the
// device and elsewhere a plain array of kLanes values. Either way an operation
// acts on each lane on its own, with the same IEEE rounding, in the order of the
// lane loops it replaces: the values are those of the lane loops, bit for bit.
#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__)
// (The levels of gpu/batch_cpu_level.hpp inline these; -Wpsabi only warns that a
// non-inlined vector return would use another ABI in the baseline level. Off
// from here to the end of this header, where the packs are used.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
// A 64-byte vector (16 floats, 8 doubles): larger GCC vectors are split poorly.
template <class T>
struct PackOf {
  typedef T type __attribute__((vector_size(64)));
};
template <class T>
inline constexpr int kPackLanes = 64 / sizeof(T);
template <class T>
using Pack = typename PackOf<T>::type;
template <class T>
inline Pack<T> pack_load(const T* p) {
  Pack<T> r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
template <class T>
inline void pack_store(T* p, const Pack<T>& a) {
  std::memcpy(p, &a, sizeof a);
}
template <class T>
inline Pack<T> pack_max(const Pack<T>& a, const Pack<T>& b) {  // a > b ? a : b, lane by lane
  return a > b ? a : b;
}
template <class T>
inline Pack<T> pack_fma(const Pack<T>& a, T s, const Pack<T>& c) {  // fmadd(a, s, c), lane by lane
  Pack<T> r;
  for (int l = 0; l < kPackLanes<T>; ++l) r[l] = fmadd<T>(a[l], s, c[l]);
  return r;
}
#define ICLCERT_UNROLL _Pragma("GCC unroll 16")
#define ICLCERT_HOST_PANELS 1  // the host's register-blocked attention below
#else
template <class T>
inline constexpr int kPackLanes = kLanes;
template <class T>
struct Pack {
  T v[kLanes];
  ICLCERT_HD friend Pack operator*(const Pack& a, T s) {
    Pack r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] * s;
    return r;
  }
  ICLCERT_HD friend Pack operator+(const Pack& a, const Pack& b) {
    Pack r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] + b.v[l];
    return r;
  }
  ICLCERT_HD friend Pack operator/(const Pack& a, const Pack& b) {
    Pack r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] / b.v[l];
    return r;
  }
};
template <class T>
ICLCERT_HD inline Pack<T> pack_max(const Pack<T>& a, const Pack<T>& b) {  // a > b ? a : b, lane by lane
  Pack<T> r;
  for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
  return r;
}
template <class T>
ICLCERT_HD inline Pack<T> pack_fma(const Pack<T>& a, T s, const Pack<T>& c) {  // fmadd(a, s, c), lane by lane
  Pack<T> r;
  for (int l = 0; l < kLanes; ++l) r.v[l] = fmadd<T>(a.v[l], s, c.v[l]);
  return r;
}
template <class T>
ICLCERT_HD inline Pack<T> pack_load(const T* p) {
  Pack<T> r;
  for (int l = 0; l < kLanes; ++l) r.v[l] = p[l];
  return r;
}
template <class T>
ICLCERT_HD inline void pack_store(T* p, const Pack<T>& a) {
  for (int l = 0; l < kLanes; ++l) p[l] = a.v[l];
}
#if defined(__CUDACC__)
#define ICLCERT_UNROLL _Pragma("unroll")
#else
#define ICLCERT_UNROLL
#endif
#endif

// ST[i * P + j] = sum_k KT[k][i] QT[k][j] for keys i < n_keys, columns b..b+W-1.
template <int G, class T>
ICLCERT_HD inline void score_panel(const T* KT, const T* QT, int D, int P, int n_keys, int b, T* ST) {
  constexpr int PL = kPackLanes<T>, NP = G * kLanes / PL;  // packs per panel
  for (int i = 0; i < n_keys; ++i) {
    Pack<T> acc[NP];
    const T k0 = KT[i];
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) acc[g] = pack_load(QT + b + g * PL) * k0;
    for (int k = 1; k < D; ++k) {
      const T kv = KT[static_cast<long>(k) * P + i];
      const T* q = QT + static_cast<long>(k) * P + b;
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) acc[g] = pack_fma(pack_load(q + g * PL), kv, acc[g]);
    }
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) pack_store(ST + static_cast<long>(i) * P + b + g * PL, acc[g]);
  }
}

template <class T>
ICLCERT_HD inline void score_matrix(const T* KT, const T* QT, int D, int P, int n_keys, T* ST) {
  for_panels(P, [&]<int G>(int b) { score_panel<G>(KT, QT, D, P, n_keys, b, ST); });
}

// Columns b..b+G*kLanes-1 of ST become those queries' unnormalised attention
// weights: m = max_i s_i, w_i = exp(s_i - m), sum = w_0 + w_1 + ... in order; recip
// gets 1 / sum (the aggregate is scaled by it once, after its sum).
template <int G, class T>
ICLCERT_HD inline void softmax_columns(T* ST, int P, int n_keys, int b, T* recip) {
  constexpr int PL = kPackLanes<T>, NP = G * kLanes / PL;  // packs per panel
  constexpr int W = G * kLanes;
  Pack<T> m[NP], sum[NP];
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) m[g] = pack_load(ST + b + g * PL);
  for (int i = 1; i < n_keys; ++i) {
    const T* row = ST + static_cast<long>(i) * P + b;
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) m[g] = pack_max<T>(pack_load(row + g * PL), m[g]);
  }
  T mv[W];
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) pack_store(mv + g * PL, m[g]);
  for (int i = 0; i < n_keys; ++i) {
    T* row = ST + static_cast<long>(i) * P + b;
    for (int l = 0; l < W; ++l) row[l] = kernel_exp<T>(row[l] - mv[l]);
  }
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) sum[g] = Pack<T>{};
  for (int i = 0; i < n_keys; ++i) {
    const T* row = ST + static_cast<long>(i) * P + b;
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) sum[g] = sum[g] + pack_load(row + g * PL);
  }
  T sv[W];
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) pack_store(sv + g * PL, sum[g]);
  for (int l = 0; l < W; ++l) recip[b + l] = T(1) / sv[l];
}

// Each column of ST becomes that query's unnormalised attention weights over the
// keys (softmax: exp(s_i - max), linear: s_i), recip[j] the factor 1 / sum_i w_i
// (linear: 1 / n_keys) of column j.
template <class T>
ICLCERT_HD inline void weight_matrix(T* ST, int P, int n_keys, int softmax, T* recip) {
  if (!softmax) {
    const T r = T(1) / static_cast<T>(n_keys);
    for (int j = 0; j < P; ++j) recip[j] = r;
    return;
  }
  for_panels(P, [&]<int G>(int b) { softmax_columns<G>(ST, P, n_keys, b, recip); });
}

// AGG[k][j] = recip[j] * sum_i A[i][j] VT[k][i], columns b..b+W-1.
template <int G, class T>
ICLCERT_HD inline void aggregate_panel(const T* A, const T* VT, const T* recip, int D, int P, int n_keys, int b,
                                       T* AGG) {
  constexpr int PL = kPackLanes<T>, NP = G * kLanes / PL;  // packs per panel
  for (int k = 0; k < D; ++k) {
    Pack<T> acc[NP];
    const T* vk = VT + static_cast<long>(k) * P;
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) acc[g] = Pack<T>{};
    for (int i = 0; i < n_keys; ++i) {
      const T v = vk[i];
      const T* a = A + static_cast<long>(i) * P + b;
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) acc[g] = pack_fma(pack_load(a + g * PL), v, acc[g]);
    }
    T* out = AGG + static_cast<long>(k) * P + b;
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) pack_store(out + g * PL, acc[g]);
    for (int l = 0; l < G * kLanes; ++l) out[l] = out[l] * recip[b + l];
  }
}

template <class T>
ICLCERT_HD inline void aggregate_matrix(const T* A, const T* VT, const T* recip, int D, int P, int n_keys, T* AGG) {
  for_panels(P, [&]<int G>(int b) { aggregate_panel<G>(A, VT, recip, D, P, n_keys, b, AGG); });
}

// out = M ZT for a D x D matrix M (keys or values of a dense head), columns b..b+W-1.
template <int G, class T>
ICLCERT_HD inline void transform_panel(const T* M, const T* ZT, int D, int P, int b, T* out) {
  constexpr int W = G * kLanes;
  for (int r = 0; r < D; ++r) {
    T acc[W];
    const T m0 = M[r * D];
    for (int l = 0; l < W; ++l) acc[l] = m0 * ZT[b + l];
    for (int c = 1; c < D; ++c) {
      const T m = M[r * D + c];
      const T* z = ZT + static_cast<long>(c) * P + b;
      for (int l = 0; l < W; ++l) acc[l] = fmadd<T>(m, z[l], acc[l]);
    }
    for (int l = 0; l < W; ++l) out[static_cast<long>(r) * P + b + l] = acc[l];
  }
}

template <class T>
ICLCERT_HD inline void transform(const T* M, const T* ZT, int D, int P, T* out) {
  for_panels(P, [&]<int G>(int b) { transform_panel<G>(M, ZT, D, P, b, out); });
}

// The columns a layer computes: [begin, end). Every layer but a final-only run's
// last needs all N + 1 token columns; that last layer only needs the probe's.
struct Columns {
  int begin, end;
};

#ifdef ICLCERT_HOST_PANELS
// ---- The host's attention: register-blocked panels (gpu/batch_cpu.cpp runs it).
//
// The same per-lane operations in the same order as score_panel, softmax_columns
// and aggregate_panel above (each query column's sums run over k or i in
// sequence, with the same explicit fmadd steps and no other fusion; the kernel's
// exp, lane by lane), so the same values bit for bit. What differs is only how the
// work is tiled, which never touches the order of a sum:
// * a panel is one, two, three or four 64-byte packs of query columns, or for the
//   last few columns a single 16-, 32- or 64-byte pack: the N + 1 = 65 columns of
//   the benchmark take 4 packs of 16 floats and one of 4 (not 5 packs of 16);
// * a lone column (the probe's, at a final-only run's last layer) runs with the
//   keys across the lanes instead (host_probe_column; theory/batch_path.md, "The
//   one-column path");
// * the score loop computes KB keys at once and the aggregate KB features at once
//   (KB x NP accumulators in registers): one load of a pack of queries (weights)
//   feeds KB products, so the loop is bound by the multiplies and adds instead of
//   the loads;
// * score, softmax and aggregate run panel by panel, so a panel's weights
//   (n_keys x 64 floats) stay in the L1 cache between the three;
// * the exp runs on whole packs (pack_exp below: kernel_exp's operations on
//   every lane).
template <class T, int Bytes>
struct HostVecOf {
  typedef T type __attribute__((vector_size(Bytes)));
};
template <class T, int Bytes>
using HostVec = typename HostVecOf<T, Bytes>::type;

template <class V, class T>
inline V vec_load(const T* p) {
  V r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
template <class V, class T>
inline void vec_store(T* p, const V& a) {
  std::memcpy(p, &a, sizeof a);
}
// s on every lane: one broadcast (g++ built the lane loop below lane by lane, with
// a masked broadcast per lane, on AVX-512).
template <class V, class T>
inline V vec_splat(T s) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && sizeof(T) == 4) return (V)_mm512_set1_ps(s);
  if constexpr (sizeof(V) == 64 && sizeof(T) == 8) return (V)_mm512_set1_pd(s);
#endif
#if defined(__AVX__)
  if constexpr (sizeof(V) == 32 && sizeof(T) == 4) return (V)_mm256_set1_ps(s);
  if constexpr (sizeof(V) == 32 && sizeof(T) == 8) return (V)_mm256_set1_pd(s);
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(V) == 16 && sizeof(T) == 4) return (V)_mm_set1_ps(s);
  if constexpr (sizeof(V) == 16 && sizeof(T) == 8) return (V)_mm_set1_pd(s);
#endif
  V r;
  for (int l = 0; l < static_cast<int>(sizeof(V) / sizeof(T)); ++l) r[l] = s;
  return r;
}
// The host's vector width, in bytes: the level's registers (gpu/batch_cpu_level.hpp).
// A GCC vector wider than the ISA's registers is split by g++, and its lane loops
// not always into vector instructions.
#if defined(__AVX512F__)
inline constexpr int kHostVecBytes = 64;  // x86-64-v4: 16 floats, 8 doubles
#elif defined(__AVX__)
inline constexpr int kHostVecBytes = 32;  // x86-64-v3: 8 floats, 4 doubles
#else
inline constexpr int kHostVecBytes = 16;  // the baseline (SSE2), and other architectures
#endif
// Vector registers of the level: 32 with AVX-512, 16 below.
#if defined(__AVX512F__)
inline constexpr int kHostVecRegs = 32;
#else
inline constexpr int kHostVecRegs = 16;
#endif

// fmadd on every lane: a * b + c (b a vector), rounded once per lane: one vfmadd
// per register, by intrinsic where the level has FMA (g++ turned the lane loop of
// __builtin_fma into scalar fmas, or calls of libm's fma, in some unrolled
// contexts); the lane loop of fmadd elsewhere (the x86-64 baseline: unfused).
template <class T, class V>
inline V vec_fmav(const V& a, const V& b, const V& c) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && sizeof(T) == 4) return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
  if constexpr (sizeof(V) == 64 && sizeof(T) == 8) return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#endif
#if defined(__FMA__)
  if constexpr (sizeof(V) == 32 && sizeof(T) == 4) return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
  if constexpr (sizeof(V) == 32 && sizeof(T) == 8) return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
  if constexpr (sizeof(V) == 16 && sizeof(T) == 4) return (V)_mm_fmadd_ps((__m128)a, (__m128)b, (__m128)c);
  if constexpr (sizeof(V) == 16 && sizeof(T) == 8) return (V)_mm_fmadd_pd((__m128d)a, (__m128d)b, (__m128d)c);
#endif
#if defined(ICLCERT_BATCH_UNFUSED)
  return a * b + c;
#else
  V r;
  for (int l = 0; l < static_cast<int>(sizeof(V) / sizeof(T)); ++l) r[l] = fmadd<T>(a[l], b[l], c[l]);
  return r;
#endif
}
// The same with one scalar b for all lanes.
template <class V, class T>
inline V vec_fma(const V& a, T b, const V& c) {
  return vec_fmav<T, V>(a, vec_splat<V>(b), c);
}
// a > b ? a : b and a < b ? a : b, lane by lane, NaNs included (b when either is
// NaN): the definition of x86's max and min instructions, operands in this order.
// g++ built the ternaries from a compare and a blend (and an and-not for a 0). (The
// AVX-512 forms are the masked ones with every lane set: the plain ones start from
// an undefined vector, which g++ 12 warns about.)
template <class T, class V>
inline V vec_max(const V& a, const V& b) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && sizeof(T) == 4) return (V)_mm512_mask_max_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b);
  if constexpr (sizeof(V) == 64 && sizeof(T) == 8) return (V)_mm512_mask_max_pd((__m512d)a, 0xFF, (__m512d)a, (__m512d)b);
#endif
#if defined(__AVX__)
  if constexpr (sizeof(V) == 32 && sizeof(T) == 4) return (V)_mm256_max_ps((__m256)a, (__m256)b);
  if constexpr (sizeof(V) == 32 && sizeof(T) == 8) return (V)_mm256_max_pd((__m256d)a, (__m256d)b);
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(V) == 16 && sizeof(T) == 4) return (V)_mm_max_ps((__m128)a, (__m128)b);
  if constexpr (sizeof(V) == 16 && sizeof(T) == 8) return (V)_mm_max_pd((__m128d)a, (__m128d)b);
#endif
  return a > b ? a : b;
}
template <class T, class V>
inline V vec_min(const V& a, const V& b) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && sizeof(T) == 4) return (V)_mm512_mask_min_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b);
  if constexpr (sizeof(V) == 64 && sizeof(T) == 8) return (V)_mm512_mask_min_pd((__m512d)a, 0xFF, (__m512d)a, (__m512d)b);
#endif
#if defined(__AVX__)
  if constexpr (sizeof(V) == 32 && sizeof(T) == 4) return (V)_mm256_min_ps((__m256)a, (__m256)b);
  if constexpr (sizeof(V) == 32 && sizeof(T) == 8) return (V)_mm256_min_pd((__m256d)a, (__m256d)b);
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(V) == 16 && sizeof(T) == 4) return (V)_mm_min_ps((__m128)a, (__m128)b);
  if constexpr (sizeof(V) == 16 && sizeof(T) == 8) return (V)_mm_min_pd((__m128d)a, (__m128d)b);
#endif
  return a < b ? a : b;
}

// kernel_exp<T> on every lane of M packs: the same operations in the same order
// for each lane, the M packs' steps interleaved so that their Horner chains (a
// multiply and an add per degree, each waiting for the last) overlap.
template <class T, int Bytes, int M>
inline void packs_exp(HostVec<T, Bytes> (&x)[M]) {
  using K = ExpConstants<T>;
  using V = HostVec<T, Bytes>;
  using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  using I = HostVec<Bits, Bytes>;
  const V lo = vec_splat<V>(K::kLo), zero = vec_splat<V>(T(0)), cut = vec_splat<V>(K::kCut);
  const double inv_factorial[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
                                    1.0 / 479001600, 1.0 / 6227020800.0};
  V shifted[M], r[M], p[M];
  decltype(x[0] < lo) below[M];  // kernel_exp's cut: 0 below kCut
  ICLCERT_UNROLL
  for (int e = 0; e < M; ++e) {
    below[e] = x[e] < cut;
    // kernel_exp's clamp, x < lo ? lo : (x > 0 ? 0 : x): max(lo, x) is x < lo ? lo : x
    // (NaN: x), then min(0, .) is . > 0 ? 0 : . (NaN: itself; -0 stays -0).
    x[e] = vec_min<T>(zero, vec_max<T>(lo, x[e]));
    shifted[e] = vec_fmav<T, V>(x[e], vec_splat<V>(K::kLog2e), vec_splat<V>(K::kRound));
    const V n = shifted[e] - K::kRound;
    r[e] = vec_fmav<T, V>(n, vec_splat<V>(-K::kLn2Lo), vec_fmav<T, V>(n, vec_splat<V>(-K::kLn2Hi), x[e]));
    p[e] = vec_splat<V>(static_cast<T>(inv_factorial[K::kDegree]));
  }
  for (int k = K::kDegree - 1; k >= 0; --k) {
    const T c = static_cast<T>(inv_factorial[k]);
    ICLCERT_UNROLL
    for (int e = 0; e < M; ++e) p[e] = vec_fmav<T, V>(p[e], r[e], vec_splat<V>(c));
  }
  // 2^n, power_of_two's bits, read off shifted's bits instead of converting n: shifted
  // = kRound + n exactly, in the binade [2^kMantissa, 2^(kMantissa+1)) whose ulp is 1,
  // so its bits are kRound's plus n, and kRound's low bits (the ones the shift keeps)
  // are 0. So (bits(shifted) + bias) << kMantissa = (n + bias) << kMantissa for every
  // clamped x; for a NaN x it is some power of two, 0 or inf, and p * scale is p's
  // NaN as before. (AVX2 has no packed double -> int64 conversion: g++ built it from
  // 4 scalar conversions and 6 shuffles per pack, a quarter of the double exp.)
  static_assert((std::bit_cast<Bits>(K::kRound) & ((Bits(1) << (8 * sizeof(T) - K::kMantissa)) - 1)) == 0);
  ICLCERT_UNROLL
  for (int e = 0; e < M; ++e) {
    I bits;
    std::memcpy(&bits, &shifted[e], sizeof bits);
    bits = (bits + static_cast<Bits>(K::kBias)) << K::kMantissa;
    V scale;
    std::memcpy(&scale, &bits, sizeof scale);
    x[e] = below[e] ? zero : p[e] * scale;
  }
}

// Keys per score block and features per aggregate block for a panel of NP packs:
// KB x NP accumulators, at most half the level's vector registers (16 of 32 with
// AVX-512, 8 of 16 below: the others hold the broadcast keys and the loads).
// (With 16 registers and 3 or 4 packs: 3 keys, 12 accumulators, so that more
// fused multiply-adds than the FMA units' latency times their count are in
// flight; the packs of queries are the FMAs' memory operands. 2 measured 3 to 5%
// slower on AVX2.)
template <int NP>
inline constexpr int kHostBlock = kHostVecRegs == 32 ? (NP >= 3 ? 4 : 8) : (NP >= 3 ? 3 : 8 / NP);
// Packs whose exps run interleaved: each takes four registers (x, n, r, p). (2
// instead of 4 with 16 registers, which spills fewer constants, measured the same.)
inline constexpr int kHostExpPacks = kHostVecRegs == 32 ? 8 : 4;

// ST[i * P + b..] for keys i0.. in blocks of KB, then the remainder in halves;
// m becomes the running max of the keys' scores in key order (softmax_columns'
// m = s_0, then m = s_i > m ? s_i : m).
template <class T, int Bytes, int NP, int KB>
inline void host_scores(const T* KT, const T* QT, int D, int P, int n_keys, int i0, int b, T* ST,
                        HostVec<T, Bytes> (&m)[NP]) {
  using V = HostVec<T, Bytes>;
  constexpr int PL = Bytes / sizeof(T);
  for (; i0 + KB <= n_keys; i0 += KB) {
    V acc[KB][NP];
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) {
      const V q = vec_load<V>(QT + b + g * PL);
      ICLCERT_UNROLL
      for (int u = 0; u < KB; ++u) acc[u][g] = q * KT[i0 + u];
    }
    for (int k = 1; k < D; ++k) {
      const T* kr = KT + static_cast<long>(k) * P + i0;
      const T* qr = QT + static_cast<long>(k) * P + b;
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) {
        const V q = vec_load<V>(qr + g * PL);
        ICLCERT_UNROLL
        for (int u = 0; u < KB; ++u) acc[u][g] = vec_fma(q, kr[u], acc[u][g]);
      }
    }
    ICLCERT_UNROLL
    for (int u = 0; u < KB; ++u)
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) {
        vec_store(ST + static_cast<long>(i0 + u) * P + b + g * PL, acc[u][g]);
        m[g] = i0 + u == 0 ? acc[u][g] : (acc[u][g] > m[g] ? acc[u][g] : m[g]);
      }
  }
  if constexpr (KB > 1) host_scores<T, Bytes, NP, KB / 2>(KT, QT, D, P, n_keys, i0, b, ST, m);
}

// w_i = exp(s_i - m) in place, sum = ((0 + w_0) + w_1) + ... in key order
// (softmax_columns' order); R keys at a time, so that about 8 exps are in flight.
template <class T, int Bytes, int NP, int R>
inline void host_exp_rows(T* ST, int P, int n_keys, int i, int b, const HostVec<T, Bytes> (&m)[NP],
                          HostVec<T, Bytes> (&sum)[NP]) {
  using V = HostVec<T, Bytes>;
  constexpr int PL = Bytes / sizeof(T);
  for (; i + R <= n_keys; i += R) {
    V x[R * NP];
    ICLCERT_UNROLL
    for (int u = 0; u < R; ++u)
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) x[u * NP + g] = vec_load<V>(ST + static_cast<long>(i + u) * P + b + g * PL) - m[g];
    packs_exp<T, Bytes, R * NP>(x);
    ICLCERT_UNROLL
    for (int u = 0; u < R; ++u)
      ICLCERT_UNROLL
      for (int g = 0; g < NP; ++g) {
        vec_store(ST + static_cast<long>(i + u) * P + b + g * PL, x[u * NP + g]);
        sum[g] = sum[g] + x[u * NP + g];
      }
  }
  if constexpr (R > 1) host_exp_rows<T, Bytes, NP, 1>(ST, P, n_keys, i, b, m, sum);
}

// AGG[k * P + b..] = r * sum_i A[i][.] VT[k][i] for KB features from k0, r the
// column's 1 / sum (aggregate_panel's order: the sum, then one multiplication).
template <class T, int Bytes, int NP, int KB>
inline void host_aggregate_block(const T* A, const T* VT, int P, int n_keys, int k0, int b, T* AGG,
                                 const HostVec<T, Bytes> (&r)[NP]) {
  using V = HostVec<T, Bytes>;
  constexpr int PL = Bytes / sizeof(T);
  V acc[KB][NP];
  ICLCERT_UNROLL
  for (int u = 0; u < KB; ++u)
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) acc[u][g] = V{};
  const T* vk = VT + static_cast<long>(k0) * P;
  for (int i = 0; i < n_keys; ++i) {
    const T* a = A + static_cast<long>(i) * P + b;
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) {
      const V w = vec_load<V>(a + g * PL);
      ICLCERT_UNROLL
      for (int u = 0; u < KB; ++u) acc[u][g] = vec_fma(w, vk[static_cast<long>(u) * P + i], acc[u][g]);
    }
  }
  ICLCERT_UNROLL
  for (int u = 0; u < KB; ++u)
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) vec_store(AGG + static_cast<long>(k0 + u) * P + b + g * PL, acc[u][g] * r[g]);
}

// Features k0.. in blocks of KB, then the remainder in halves.
template <class T, int Bytes, int NP, int KB>
inline void host_aggregate(const T* A, const T* VT, int D, int P, int n_keys, int k0, int b, T* AGG,
                           const HostVec<T, Bytes> (&r)[NP]) {
  for (; k0 + KB <= D; k0 += KB) host_aggregate_block<T, Bytes, NP, KB>(A, VT, P, n_keys, k0, b, AGG, r);
  if constexpr (KB > 1) host_aggregate<T, Bytes, NP, KB / 2>(A, VT, D, P, n_keys, k0, b, AGG, r);
}

// Weights and aggregate of one panel: the queries' columns b.. of W and AGG.
template <class T, int Bytes, int NP>
inline void host_attend_panel(const T* QT, const T* KT, const T* VT, int D, int P, int n_keys, int softmax, int b,
                              T* W, T* recip, T* AGG) {
  constexpr int PL = Bytes / sizeof(T);
  using V = HostVec<T, Bytes>;
  V m[NP], sum[NP];
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) m[g] = V{};  // set from the first key's scores
  host_scores<T, Bytes, NP, kHostBlock<NP>>(KT, QT, D, P, n_keys, 0, b, W, m);
  if (softmax) {
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) sum[g] = V{};
    host_exp_rows<T, Bytes, NP, NP >= kHostExpPacks ? 1 : kHostExpPacks / NP>(W, P, n_keys, 0, b, m, sum);
  } else {
    ICLCERT_UNROLL
    for (int g = 0; g < NP; ++g) sum[g] = vec_splat<V>(static_cast<T>(n_keys));
  }
  V r[NP];  // 1 / sum, as weight_matrix: 1 / n_keys for a linear kernel
  ICLCERT_UNROLL
  for (int g = 0; g < NP; ++g) {
    r[g] = T(1) / sum[g];
    vec_store(recip + b + g * PL, r[g]);
  }
  host_aggregate<T, Bytes, NP, kHostBlock<NP>>(W, VT, D, P, n_keys, 0, b, AGG, r);
}

// The attention of the single query column j (a pack of 16 bytes from j: the
// other lanes' weights are 0): scores, max, exp with the keys on the vector axis,
// where host_attend_panel puts the queries, for the same values: each score is
// the same sum over k in the same order (only the factors of its products are
// swapped), the max the same value (NaN when s_0 is, else the largest of the
// others; its sign when 0 changes no s - m), each exp the same lane operations
// and the weights' sum the same order of adds. A panel of one column computed 4
// (or 2) lanes of which 1 was used: on the benchmark's 65 columns, an eighth of the
// AVX2 attention and a fifth of the AVX-512 one (issue 25). n_keys <= kProbeKeys.
inline constexpr int kProbeKeys = 256;

// col[i] = sum_k KT[k][i] QT[k][j] for the keys i0.. in blocks of KP packs, then
// the rest one pack at a time, up to n_keys rounded up to a pack (the key rows
// are padded to P columns: lanes past n_keys read the padding, never used).
template <class T, int KP>
inline void host_probe_scores(const T* QT, const T* KT, int D, int P, int n_keys, int j, int i0, T* col) {
  using V = HostVec<T, kHostVecBytes>;
  constexpr int PL = kHostVecBytes / sizeof(T);
  for (; i0 < n_keys && i0 + KP * PL <= P; i0 += KP * PL) {
    V acc[KP];
    ICLCERT_UNROLL
    for (int u = 0; u < KP; ++u) acc[u] = vec_load<V>(KT + i0 + u * PL) * QT[j];
    for (int k = 1; k < D; ++k) {
      const T* kr = KT + static_cast<long>(k) * P + i0;
      const T q = QT[static_cast<long>(k) * P + j];
      ICLCERT_UNROLL
      for (int u = 0; u < KP; ++u) acc[u] = vec_fma(vec_load<V>(kr + u * PL), q, acc[u]);
    }
    ICLCERT_UNROLL
    for (int u = 0; u < KP; ++u) vec_store(col + i0 + u * PL, acc[u]);
  }
  if constexpr (KP > 1) host_probe_scores<T, 1>(QT, KT, D, P, n_keys, j, i0, col);
}

template <class T>
inline void host_probe_column(const T* QT, const T* KT, const T* VT, int D, int P, int n_keys, int softmax, int j,
                              T* W, T* recip, T* AGG) {
  using V = HostVec<T, kHostVecBytes>;
  constexpr int PL = kHostVecBytes / sizeof(T), KP = 4;  // KP packs of keys per block: 4 sums in flight
  alignas(64) T col[kProbeKeys + PL] = {};  // (zeroed: g++ cannot see that n_keys >= 1)
  host_probe_scores<T, KP>(QT, KT, D, P, n_keys, j, 0, col);
  T sum = T(0);
  if (softmax) {
    const T s0 = col[0];
    T m = s0;
    if (s0 == s0) {
      V mv = vec_splat<V>(s0);
      int i = 0;
      for (; i + PL <= n_keys; i += PL) {
        const V s = vec_load<V>(col + i);
        mv = s > mv ? s : mv;
      }
      for (int l = 0; l < PL; ++l) m = mv[l] > m ? mv[l] : m;
      for (; i < n_keys; ++i) m = col[i] > m ? col[i] : m;
    }
    int i0 = 0;
    for (; i0 + KP * PL <= n_keys; i0 += KP * PL) {
      V x[KP];
      ICLCERT_UNROLL
      for (int u = 0; u < KP; ++u) x[u] = vec_load<V>(col + i0 + u * PL) - m;
      packs_exp<T, kHostVecBytes, KP>(x);
      ICLCERT_UNROLL
      for (int u = 0; u < KP; ++u) vec_store(col + i0 + u * PL, x[u]);
    }
    for (; i0 < n_keys; i0 += PL) {
      V x[1] = {vec_load<V>(col + i0) - m};
      packs_exp<T, kHostVecBytes, 1>(x);
      vec_store(col + i0, x[0]);
    }
    for (int i = 0; i < n_keys; ++i) sum += col[i];
  } else {
    sum = static_cast<T>(n_keys);
  }
  using V16 = HostVec<T, 16>;
  for (int i = 0; i < n_keys; ++i) {
    V16 w{};
    w[0] = col[i];
    vec_store(W + static_cast<long>(i) * P + j, w);
  }
  V16 r[1] = {vec_splat<V16>(T(1))};
  r[0][0] = T(1) / sum;
  vec_store(recip + j, r[0]);
  host_aggregate<T, 16, 1, kHostBlock<1>>(W, VT, D, P, n_keys, 0, j, AGG, r);
}

// The panels covering [cols.begin, cols.end): runs of up to four packs of the
// level's width (kHostVecBytes), then the rest in one pack of 16, 32 or 64 bytes
// (at most that width). A pack never reaches past the padded width P (cols.begin
// is a multiple of the pack it starts, P of 16 elements).
template <class T>
inline void host_attention(const T* QT, const T* KT, const T* VT, int D, int P, int n_keys, int softmax,
                           Columns cols, T* W, T* recip, T* AGG) {
  constexpr int VB = kHostVecBytes, L = VB / sizeof(T);
  auto panel = [&]<int Bytes, int NP>(int b) {
    host_attend_panel<T, Bytes, NP>(QT, KT, VT, D, P, n_keys, softmax, b, W, recip, AGG);
  };
  int b = cols.begin;
  for (; b + 4 * L <= cols.end; b += 4 * L) panel.template operator()<VB, 4>(b);
  switch ((cols.end - b) / L) {
    case 3: panel.template operator()<VB, 3>(b); b += 3 * L; break;
    case 2: panel.template operator()<VB, 2>(b); b += 2 * L; break;
    case 1: panel.template operator()<VB, 1>(b); b += L; break;
    default: break;
  }
  const long rest = static_cast<long>(cols.end - b) * static_cast<long>(sizeof(T));
  if (rest <= 0) return;
  if (cols.end - b == 1 && n_keys <= kProbeKeys)
    return host_probe_column(QT, KT, VT, D, P, n_keys, softmax, b, W, recip, AGG);
  if constexpr (VB == 16) {
    panel.template operator()<16, 1>(b);
  } else if constexpr (VB == 32) {
    if (rest <= 16) panel.template operator()<16, 1>(b);
    else panel.template operator()<32, 1>(b);
  } else {
    if (rest <= 16) panel.template operator()<16, 1>(b);
    else if (rest <= 32) panel.template operator()<32, 1>(b);
    else panel.template operator()<64, 1>(b);
  }
}
#endif

// All N + 1 token columns (the device: all P, padding included, as one GPU thread runs them).
ICLCERT_HD inline Columns every_column(int N) {
#ifdef ICLCERT_HOST_PANELS
  return {0, N + 1};
#else
  return {0, padded_tokens(N)};
#endif
}

// The columns a final-only last layer computes: on the host the 16 bytes around
// the probe column N (the narrowest pack; 4 floats or 2 doubles); elsewhere all.
template <class T>
ICLCERT_HD inline Columns probe_column(int N) {
#ifdef ICLCERT_HOST_PANELS
  constexpr int step = 16 / static_cast<int>(sizeof(T));
  return {N / step * step, N + 1};
#else
  return every_column(N);
#endif
}

// Scratch of one prompt, carved from its workspace.
template <class T>
struct Scratch {
  T *Z, *next, *keys, *values, *agg, *weights, *recip, *class_mean, *mean, *dist;
};

template <class T>
ICLCERT_HD inline Scratch<T> carve(T* ws, int d, int C, int N) {
  const long D = d + C, P = padded_tokens(N);
  Scratch<T> s;
  s.Z = ws;
  s.next = s.Z + D * P;
  s.keys = s.next + D * P;
  s.values = s.keys + D * P;
  s.agg = s.values + D * P;
  s.weights = s.agg + D * P;
  s.recip = s.weights + P * P;
  s.class_mean = s.recip + P;
  s.mean = s.class_mean + static_cast<long>(C) * d;
  s.dist = s.keys;  // metrics run between layers, when keys are free
  return s;
}

// One head: W = unnormalised weights of the scores KT^T QT, recip = their columns'
// 1 / sum; AGG = (VT W) recip, for the query columns cols (on the device all P).
// Returns the probe column's attention mass on the training keys of class
// probe_label: the sum of its weights w_i * recip, in key order.
template <class T>
ICLCERT_HD inline T attend_head(const Scratch<T>& s, const T* QT, const T* KT, const T* VT, int D, int N, int P,
                                int n_keys, int softmax, const std::int32_t* labels, int probe_label, Columns cols) {
#ifdef ICLCERT_HOST_PANELS
  host_attention(QT, KT, VT, D, P, n_keys, softmax, cols, s.weights, s.recip, s.agg);
#else
  (void)cols;
  score_matrix(KT, QT, D, P, n_keys, s.weights);
  weight_matrix(s.weights, P, n_keys, softmax, s.recip);
  aggregate_matrix(s.weights, VT, s.recip, D, P, n_keys, s.agg);
#endif
  T probe_mass = T(0);
  if (probe_label >= 0)
    for (int i = 0; i < N; ++i)
      if (labels[i] == probe_label) probe_mass += s.weights[static_cast<long>(i) * P + N] * s.recip[N];
  return probe_mass;
}

// Layer l from s.Z into s.next (then swapped by the caller), the token columns
// cols of s.next (the others are left as they were: never read); returns the mean
// over heads of the probe's same-class attention mass.
template <class T>
ICLCERT_HD inline T apply_layer(const ModelView<T>& m, int l, const Scratch<T>& s, int N,
                                const std::int32_t* labels, int probe_label, Columns cols) {
  const int d = m.d, D = m.d + m.C, P = padded_tokens(N);
  const int n_keys = m.probe_is_key ? N + 1 : N;
  const T* c = m.coeffs + m.offset[l];
  if (m.kind[l] == kReducedLayer) {
    // q_j = (beta_j x_j, gamma_j y_j); keys = values = z_i; x += alpha (A X), y += alpha' (A Y);
    // coefficients of the probe column from the probe overrides.
    for (int k = 0; k < D; ++k) {
      const T train = k < d ? c[0] : c[1], probe = k < d ? c[4] : c[5];
      const T* z = s.Z + static_cast<long>(k) * P;
      T* q = s.keys + static_cast<long>(k) * P;
      // Every column with the training coefficient, then the probe's again with its own: the
      // loop stays free of a per-column select, so it vectorises (a scalar loop took a fifth of
      // the float time at x86-64-v3); the values are the same.
      for (int j = cols.begin; j < cols.end; ++j) q[j] = train * z[j];
      if (cols.begin <= N && N < cols.end) q[N] = probe * z[N];
    }
    const T mass = attend_head(s, s.keys, s.Z, s.Z, D, N, P, n_keys, m.softmax, labels, probe_label, cols);
    for (int k = 0; k < D; ++k) {
      const T train = k < d ? c[2] : c[3], probe = k < d ? c[6] : c[7];
      const T* z = s.Z + static_cast<long>(k) * P;
      const T* a = s.agg + static_cast<long>(k) * P;
      T* o = s.next + static_cast<long>(k) * P;
      for (int j = cols.begin; j < cols.end; ++j) o[j] = fmadd<T>(train, a[j], z[j]);  // as above
      if (cols.begin <= N && N < cols.end) o[N] = fmadd<T>(probe, a[N], z[N]);
    }
    return mass;
  }
  for (int k = 0; k < D; ++k)
    for (int j = cols.begin; j < cols.end; ++j) s.next[static_cast<long>(k) * P + j] = s.Z[static_cast<long>(k) * P + j];
  T mass = T(0);
  for (int h = 0; h < m.heads[l]; ++h) {
    const T* S = c + 2L * h * D * D;
    transform(S, s.Z, D, P, s.keys);
    transform(S + static_cast<long>(D) * D, s.Z, D, P, s.values);
    mass += attend_head(s, s.Z, s.keys, s.values, D, N, P, n_keys, m.softmax, labels, probe_label, cols);
    for (int k = 0; k < D; ++k)
      for (int j = cols.begin; j < cols.end; ++j) s.next[static_cast<long>(k) * P + j] += s.agg[static_cast<long>(k) * P + j];
  }
  return mass / static_cast<T>(m.heads[l]);
}

// The NaN of "undefined", with the same bits on every platform: 0 / 0 gives a
// negative NaN on x86 and a positive one on NVIDIA GPUs, and the backends are
// compared bit for bit.
template <class T>
ICLCERT_HD inline T quiet_nan() {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits bits = sizeof(T) == 4 ? Bits(0x7fc00000u) : Bits(0x7ff8000000000000ull);
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}
template <class T>
ICLCERT_HD inline T infinity() {
  return T(1) / T(0);
}

// y[c] - max_{c' != c} y[c'] for the label block of token j.
template <class T>
ICLCERT_HD inline T label_margin(const T* Z, int d, int C, int P, int j, int c) {
  T best = T(0);
  bool any = false;
  for (int k = 0; k < C; ++k)
    if (k != c) {
      const T v = Z[static_cast<long>(d + k) * P + j];
      best = (!any || v > best) ? v : best;
      any = true;
    }
  return Z[static_cast<long>(d + c) * P + j] - best;
}

// The gap ratio's scan over pairs i < j, one row i at a time (dist[j] the squared
// distance of points i and j): the largest within-class and smallest between-class
// distance, in the order of numerics/metrics.hpp (a NaN seen first sticks, as there).
template <class T>
struct GapScan {
  bool any_between = false, any_within = false;
  T min_between = T(0), max_within = T(0);
  ICLCERT_HD void row(int i, int N, const std::int32_t* labels, const T* dist) {
    for (int j = i + 1; j < N; ++j) {
      const T v = dist[j];
      if (labels[i] == labels[j]) {
        max_within = (!any_within || v > max_within) ? v : max_within;
        any_within = true;
      } else {
        min_between = (!any_between || v < min_between) ? v : min_between;
        any_between = true;
      }
    }
  }
  ICLCERT_HD T ratio() const {
    return !any_between || !any_within ? quiet_nan<T>()
           : max_within != T(0)        ? min_between / max_within
                                       : infinity<T>();
  }
};

// Squared distances from point i to every column j < P of the state (ZT, column
// stride P): dist[j] = sum_k (x_ik - x_jk)^2, in order of k.
template <class T>
ICLCERT_HD inline void distance_row(const T* Z, int d, int P, int i, T* dist) {
  for (int j = 0; j < P; ++j) dist[j] = T(0);
  for (int k = 0; k < d; ++k) {
    const T xi = Z[static_cast<long>(k) * P + i];
    const T* row = Z + static_cast<long>(k) * P;
    for (int j = 0; j < P; ++j) {
      const T diff = xi - row[j];
      dist[j] += diff * diff;
    }
  }
}

// The probe's prediction from the state Z (ZT layout, column stride P): the argmax
// of its label block (ties to the smallest class), or kNoPrediction when an entry
// of the block is inf or NaN.
template <class T>
ICLCERT_HD inline std::int32_t probe_prediction(const T* Z, int P, int d, int C, int N) {
  auto y = [&](int c) { return Z[static_cast<long>(d + c) * P + N]; };
  int best = 0;
  bool finite = true;
  for (int c = 0; c < C; ++c) {
    finite = finite && y(c) - y(c) == T(0);  // y - y is NaN for inf and NaN, else 0
    if (c > 0 && y(c) > y(best)) best = c;
  }
  return finite ? best : kNoPrediction;
}

// The metrics of spec section 5 but the gap ratio (numerics/metrics.hpp, same order
// of sums) on the state Z (ZT layout, column stride P); class_mean (C x d) and mean
// (d) are scratch.
template <class T>
ICLCERT_HD inline void record_except_gap(const T* Z, int P, int d, int C, int N, const std::int32_t* labels,
                                         int probe_label, T* class_mean, T* mean, LayerRecord<T>& rec) {
  auto x = [&](int j, int k) { return Z[static_cast<long>(k) * P + j]; };
  // Fisher ratio.
  for (int e = 0; e < C * d; ++e) class_mean[e] = T(0);
  for (int k = 0; k < d; ++k) mean[k] = T(0);
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < d; ++k) {
      class_mean[labels[i] * d + k] += x(i, k);
      mean[k] += x(i, k);
    }
  for (int k = 0; k < d; ++k) mean[k] /= static_cast<T>(N);
  T between = T(0), within = T(0);
  for (int c = 0; c < C; ++c) {  // class sizes are counted, not stored: no int scratch
    int n = 0;
    for (int i = 0; i < N; ++i) n += labels[i] == c;
    if (n == 0) continue;
    for (int k = 0; k < d; ++k) class_mean[c * d + k] /= static_cast<T>(n);
  }
  for (int i = 0; i < N; ++i) {
    T dist = T(0);
    for (int k = 0; k < d; ++k) {
      const T diff = x(i, k) - class_mean[labels[i] * d + k];
      dist += diff * diff;
    }
    within += dist;
  }
  for (int c = 0; c < C; ++c) {
    int n = 0;
    for (int i = 0; i < N; ++i) n += labels[i] == c;
    if (n == 0) continue;
    T dist = T(0);
    for (int k = 0; k < d; ++k) {
      const T diff = class_mean[c * d + k] - mean[k];
      dist += diff * diff;
    }
    between += static_cast<T>(n) * dist;
  }
  rec.fisher = within != T(0) ? between / within : (between != T(0) ? infinity<T>() : quiet_nan<T>());
  // Label margins.
  T min_margin = T(0);
  for (int i = 0; i < N; ++i) {
    const T v = label_margin(Z, d, C, P, i, labels[i]);
    min_margin = (i == 0 || v < min_margin) ? v : min_margin;
  }
  rec.min_label_margin = min_margin;
  // Probe: prediction, margin, alignment.
  rec.prediction = probe_prediction(Z, P, d, C, N);
  if (probe_label >= 0) {
    rec.probe_margin = label_margin(Z, d, C, P, N, probe_label);
    T sum = T(0);
    for (int c = 0; c < C; ++c) sum += x(N, d + c);
    rec.probe_alignment = x(N, d + probe_label) - sum / static_cast<T>(C);
  } else {
    rec.probe_margin = rec.probe_alignment = quiet_nan<T>();
  }
  rec.probe_attention_same_class = quiet_nan<T>();
}

// The metrics of spec section 5 on the state s.Z.
template <class T>
ICLCERT_HD inline void compute_record(const Scratch<T>& s, int d, int C, int N, const std::int32_t* labels,
                                      int probe_label, LayerRecord<T>& rec) {
  const int P = padded_tokens(N);
  record_except_gap(s.Z, P, d, C, N, labels, probe_label, s.class_mean, s.mean, rec);
  // Gap ratio: pairwise squared distances, one row of pairs at a time, vectorised over j.
  GapScan<T> gap;
  for (int i = 0; i < N; ++i) {
    distance_row(s.Z, d, P, i, s.dist);
    gap.row(i, N, labels, s.dist);
  }
  rec.gap_ratio = gap.ratio();
}

// Loads a prompt into s.Z: training rows (x_i, e_{c_i}), then the probe (x_q, y_q).
template <class T>
ICLCERT_HD inline void load_prompt(const ModelView<T>& m, const Scratch<T>& s, int N, const T* X,
                                   const std::int32_t* labels, const T* probe) {
  const int d = m.d, C = m.C, D = d + C, P = padded_tokens(N);
  for (long e = 0; e < static_cast<long>(D) * P; ++e) s.Z[e] = T(0);
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < d; ++k) s.Z[static_cast<long>(k) * P + i] = X[static_cast<long>(i) * d + k];
    s.Z[static_cast<long>(d + labels[i]) * P + i] = T(1);
  }
  for (int k = 0; k < d; ++k) s.Z[static_cast<long>(k) * P + N] = probe[k];
  if (m.probe_label_uniform)
    for (int c = 0; c < C; ++c) s.Z[static_cast<long>(d + c) * P + N] = T(1) / static_cast<T>(C);
}

// The whole recursion for one prompt. records: L + 1 entries (may be null when
// only the prediction is wanted). states: when not null, (L + 1) x (N + 1) x D
// row-major, the state after each depth (the layout of numerics' State::Z).
// Returns the final prediction.
template <class T>
ICLCERT_HD inline int run_prompt(const ModelView<T>& m, int N, const T* X, const std::int32_t* labels,
                                 const T* probe, int probe_label, T* workspace, LayerRecord<T>* records,
                                 T* states) {
  Scratch<T> s = carve(workspace, m.d, m.C, N);
  const int D = m.d + m.C, P = padded_tokens(N);
  load_prompt(m, s, N, X, labels, probe);
  LayerRecord<T> last{};
  for (int t = 0; t <= m.layers; ++t) {
    if (states)
      for (int j = 0; j <= N; ++j)
        for (int k = 0; k < D; ++k)
          states[(static_cast<long>(t) * (N + 1) + j) * D + k] = s.Z[static_cast<long>(k) * P + j];
    LayerRecord<T>& rec = records ? records[t] : last;
    compute_record(s, m.d, m.C, N, labels, probe_label, rec);
    if (t == m.layers) return rec.prediction;
    const T mass = apply_layer(m, t, s, N, labels, probe_label, every_column(N));
    if (probe_label >= 0) rec.probe_attention_same_class = mass;
    T* tmp = s.Z;
    s.Z = s.next;
    s.next = tmp;
    s.dist = s.keys;
  }
  return last.prediction;
}

// Only the prediction and the final probe margin: no per-layer metrics (the
// throughput configuration, the work PyTorch's peer does).
template <class T>
ICLCERT_HD inline int run_prompt_final(const ModelView<T>& m, int N, const T* X, const std::int32_t* labels,
                                       const T* probe, int probe_label, T* workspace, T* probe_margin) {
  Scratch<T> s = carve(workspace, m.d, m.C, N);
  const int P = padded_tokens(N);
  load_prompt(m, s, N, X, labels, probe);
  for (int t = 0; t < m.layers; ++t) {
    // The last layer's output is only read at the probe column.
    apply_layer(m, t, s, N, labels, -1, t + 1 < m.layers ? every_column(N) : probe_column<T>(N));
    T* tmp = s.Z;
    s.Z = s.next;
    s.next = tmp;
  }
  *probe_margin = probe_label >= 0 ? label_margin(s.Z, m.d, m.C, P, N, probe_label) : quiet_nan<T>();
  return probe_prediction(s.Z, P, m.d, m.C, N);
}

#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // inline namespace ICLCERT_BATCH_ISA_NS
}  // namespace iclcert::gpu
