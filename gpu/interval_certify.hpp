// The certified recursion of one prompt in float64 intervals (gpu/interval_kernel.hpp):
// spec sections 3-4, the same layer forms as batch_kernel.hpp (reduced layers with
// probe overrides; dense layers with several heads, full layers arriving as dense;
// softmax and linear kernels; probe_is_key; probe_label_init uniform), every value
// an enclosure of the exact real value (theory/interval_kernel.md).
//
// One __host__ __device__ function per prompt with its workspace in memory (like
// run_prompt in batch_kernel.hpp): callable from CPU threads and from a CUDA kernel.
//
// Inputs enter exactly: the prompt's doubles as point intervals, the model's exact
// rationals as enclosures computed on the host (gpu/interval_model.hpp). The verdict:
// c* = the argmax of the midpoints of the probe's label block (ties to the smallest
// class), margin = an enclosure of y[c*] - max_{c != c*} y[c]; certified when
// margin.lo > 0, which proves that the exact recursion predicts c*. A tie can never
// be certified (its margin encloses 0).
//
// Trusted: interval_kernel.hpp's contract, and the softmax identities of
// theory/softmax_enclosure.md (w_i = 1 / sum_j exp(s_j - s_i), weights sum to 1).
#pragma once

#include "gpu/batch_kernel.hpp"  // ModelView, LayerKind
#include "gpu/interval_attention.hpp"
#include "gpu/interval_kernel.hpp"

namespace iclcert::gpu {

// What one prompt's certification says. error != 0: an internal inconsistency (two
// enclosures of the same weight did not meet), which a correct enclosure never
// produces; such a prompt is never certified.
struct IntervalVerdict {
  int prediction = 0;   // argmax of the final probe label block's midpoints
  int certified = 0;    // 1: margin.lo > 0
  int error = 0;
  Iv margin{0, 0};      // y[prediction] - max of the other classes
  Iv label_margin{0, 0};  // y[probe_label] - max of the others; NaN without a probe label
};

// Optional per-prompt outputs (null: not wanted).
struct IntervalOutputs {
  Iv* depth_margins = nullptr;             // L + 1: the margin at each depth
  std::int32_t* depth_predictions = nullptr;  // L + 1: c* at each depth
  Iv* states = nullptr;                    // (L + 1) x (N + 1) x D, numerics' State::Z layout
  Iv* probe_labels = nullptr;              // C: the final probe label block (every class pair's margin)
};

inline namespace ICLCERT_IV_ISA_NS {

// Enclosures one prompt needs as scratch: state and next state, keys, values,
// queries and aggregates ((N+1) x D each).
ICLCERT_HD inline long interval_workspace_enclosures(int d, int C, int N) {
  return 6L * (d + C) * (N + 1);
}
// Elements of Iv one prompt needs as scratch: the enclosures above, then as
// doubles the keys' and values' midpoint-radius side arrays (6 x D x (N+1)), one
// panel's scratch (interval_attention.hpp) and the keys' centring (3 D). On the
// device, kIvInterleave prompts share kIvInterleave times this
// (interval_workspace.hpp).
ICLCERT_HD inline long interval_workspace_size(int d, int C, int N) {
  const long D = d + C, R = N + 1;
  const long doubles = 6 * D * R + iv_attn::panel_scratch_doubles(static_cast<int>(D), static_cast<int>(R)) + 3 * D;
  return interval_workspace_enclosures(d, C, N) + (doubles + 1) / 2;
}

namespace iv_certify {

// One head's attention for the query rows first..R-1 of Q (row-major, D values
// each): keys K and values V (n rows each, row-major enclosures) go to
// midpoint-radius side arrays in `side` (6 x D x R doubles; keys feature-major,
// values key-major), then panels of
// kIvLanes queries (interval_attention.hpp) write their aggregates to rows
// first..R-1 of AG. For softmax the keys arrive centred (K_i - c for a point c:
// the common shift q.c of a row cancels in the softmax and narrows the scores);
// for linear they are the keys themselves. Returns false when a softmax row's
// two enclosures of a weight did not meet.
//
// On the device one function, not inlined (nvcc): certify_prompt calls it from two
// places (reduced and dense layers), and inlined twice it doubled the kernel's
// code and its register spills (sm_90, nvcc 13.0: 38,864 SASS instructions and
// 954 local loads and stores, against 24,272 and 696 as one function).
template <class A>
#ifdef __CUDACC__
__noinline__
#endif
ICLCERT_HD inline bool attend_rows(CIvPtr Q, int first, int R, CIvPtr K, CIvPtr V, int D, int n, int softmax,
                                   DPtr side, DPtr panel, IvPtr AG) {
  constexpr int F = A::kFault;
  const iv_attn::SideArrays ks{side, side + static_cast<long>(D) * R, side + 2L * D * R};
  const iv_attn::SideArrays vs{side + 3L * D * R, side + 4L * D * R, side + 5L * D * R};
  // g = m 2^-52 >= gamma_m for the m products of a midpoint sum (D for scores, n
  // for aggregates).
  const double gk = static_cast<double>(D) * 0x1p-52, gv = static_cast<double>(n) * 0x1p-52;
  iv_attn::build_key_side<F, iv_attn::kIvLanes>(K, n, D, R, gk, ks);
  iv_attn::build_value_side<F, iv_attn::kIvLanes>(V, n, D, gv, vs);
  // Panels of kIvLanes query columns; a last column alone (the probe's in a
  // final-only last layer, the 65th of N = 64) in a one-lane panel, so that a
  // full panel's work is not spent on seven padding lanes. (A four-lane panel
  // for 2-4 columns would save less than it costs in compile time: every panel
  // width is compiled three times, once per x86-64 level.)
  bool ok = true;
  for (int j0 = first; j0 < R;) {
    const int left = R - j0;
    const CIvPtr q = Q + static_cast<long>(j0) * D;
    const IvPtr ag = AG + static_cast<long>(j0) * D;
    if (left > 1) {
      const int lanes = left < iv_attn::kIvLanes ? left : iv_attn::kIvLanes;
      ok = iv_attn::attend_panel<F, iv_attn::kIvLanes>(q, lanes, ks, vs, R, D, n, softmax,
                                                       iv_attn::carve_panel(panel, D, R, iv_attn::kIvLanes), ag) && ok;
      j0 += lanes;
    } else {
      ok = iv_attn::attend_panel<F, 1>(q, 1, ks, vs, R, D, n, softmax, iv_attn::carve_panel(panel, D, R, 1), ag) && ok;
      j0 += 1;
    }
  }
  return ok;
}

// Keys K_i - c with c the midpoint of the keys' midpoints' mean (any point would
// do); scratch: 3 D doubles.
template <class A>
ICLCERT_HD inline void centre_keys(IvPtr K, int n, int D, DPtr scratch) {
  iv_attn::centre_columns<A::kFault>(K, n, D, scratch, scratch + D);
}

// y[c*] - max_{c != c*} y[c] and c* for the label block y (C values).
template <class A>
ICLCERT_HD inline Iv margin_of(CIvPtr y, int C, int best) {
  for (int c = 0; c < C; ++c)
    if (y[c].lo != y[c].lo || y[c].hi != y[c].hi) return {y[c].lo + y[c].hi, y[c].lo + y[c].hi};  // NaN: undecided
  if (C < 2) return {iv_detail::kInf, iv_detail::kInf};  // one class: nothing to beat
  Iv other = y[best == 0 ? 1 : 0];
  for (int c = 0; c < C; ++c)
    if (c != best) other = A::max(other, y[c]);
  return A::sub(y[best], other);
}
ICLCERT_HD inline int argmax_mid(CIvPtr y, int C) {
  int best = 0;
  for (int c = 1; c < C; ++c)
    if (iv_mid(y[c]) > iv_mid(y[best])) best = c;
  return best;
}

}  // namespace iv_certify

// The whole recursion for one prompt. X: N x d, probe: d (doubles, exact); labels:
// N classes; probe_label: -1 when unknown (then label_margin is NaN); scratch:
// interval_workspace_enclosures(d, C, N) enclosures and the doubles after them
// (interval_workspace.hpp; the overload below takes one buffer of
// interval_workspace_size(d, C, N) elements). A: the arithmetic (planted faults
// in tests only).
template <class A = IvArith<>>
ICLCERT_HD inline IntervalVerdict certify_prompt(const ModelView<Iv>& m, int N, const double* X,
                                                 const std::int32_t* labels, const double* probe, int probe_label,
                                                 const IvScratch& scratch, const IntervalOutputs& out = {}) {
  constexpr int F = A::kFault;
  const int d = m.d, C = m.C, D = d + C, R = N + 1;
  const int n_keys = m.probe_is_key ? N + 1 : N;
  IvPtr Z = scratch.iv;
  IvPtr next = Z + static_cast<long>(R) * D;
  const IvPtr K = next + static_cast<long>(R) * D;
  const IvPtr V = K + static_cast<long>(R) * D;
  const IvPtr Q = V + static_cast<long>(R) * D;
  const IvPtr AG = Q + static_cast<long>(R) * D;
  const DPtr side = scratch.dbl;
  const DPtr panel = side + 6L * D * R;
  const DPtr centre = panel + iv_attn::panel_scratch_doubles(D, R);
  // z_i = (x_i, e_{c_i}); z_q = (x_q, 0) or (x_q, 1/C enclosed).
  for (long e = 0; e < static_cast<long>(R) * D; ++e) Z[e] = Iv{0, 0};
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < d; ++k) Z[static_cast<long>(i) * D + k] = A::point(X[static_cast<long>(i) * d + k]);
    Z[static_cast<long>(i) * D + d + labels[i]] = Iv{1, 1};
  }
  for (int k = 0; k < d; ++k) Z[static_cast<long>(N) * D + k] = A::point(probe[k]);
  if (m.probe_label_uniform) {
    const Iv inv_c = A::div(Iv{1, 1}, A::point(static_cast<double>(C)));
    for (int c = 0; c < C; ++c) Z[static_cast<long>(N) * D + d + c] = inv_c;
  }
  IntervalVerdict v;
  for (int t_depth = 0;; ++t_depth) {
    const CIvPtr y = Z + static_cast<long>(N) * D + d;
    if (out.states)
      for (long e = 0; e < static_cast<long>(R) * D; ++e) out.states[static_cast<long>(t_depth) * R * D + e] = Z[e];
    if (out.depth_margins || out.depth_predictions || t_depth == m.layers) {
      const int best = iv_certify::argmax_mid(y, C);
      const Iv margin = iv_certify::margin_of<A>(y, C, best);
      if (out.depth_margins) out.depth_margins[t_depth] = margin;
      if (out.depth_predictions) out.depth_predictions[t_depth] = best;
      if (t_depth == m.layers) {
        v.prediction = best;
        v.margin = margin;
        v.certified = !v.error && margin.lo > 0;
        const double nan = iv_detail::from_bits(0x7ff8000000000000ull);
        v.label_margin = probe_label >= 0 ? iv_certify::margin_of<A>(y, C, probe_label) : Iv{nan, nan};
        if (out.probe_labels)
          for (int c = 0; c < C; ++c) out.probe_labels[c] = y[c];
        return v;
      }
    }
    // Layer t_depth from Z into next. The last layer only needs the probe's column
    // unless every state is wanted.
    const int l = t_depth;
    const int first_query = (l + 1 == m.layers && !out.states) ? N : 0;
    const Iv* coef = m.coeffs + m.offset[l];
    if (m.kind[l] == kReducedLayer) {
      // keys = values = z_i; q_j = (beta_j x_j, gamma_j y_j);
      // x_j += alpha_j (A X)_j, y_j += alpha'_j (A Y)_j (probe overrides in coef[4..7]).
      for (long e = 0; e < static_cast<long>(n_keys) * D; ++e) K[e] = Z[e];
      if (m.softmax) iv_certify::centre_keys<A>(K, n_keys, D, centre);
      // The elementwise products in lane form; those with an infinite or NaN
      // endpoint are redone by A::mul (0 * inf counts as 0 there).
      const bool coef_finite = iv_attn::finite_row(coef, 8);
      for (int j = first_query; j < R; ++j) {
        const Iv* c = coef + (j == N ? 4 : 0);
        const CIvPtr z = Z + static_cast<long>(j) * D;
        const IvPtr q = Q + static_cast<long>(j) * D;
        iv_attn::scale_row<F>(c[0], z, q, d);
        iv_attn::scale_row<F>(c[1], z + d, q + d, D - d);
        if (!coef_finite || !iv_attn::finite_row(z, D))
          for (int k = 0; k < D; ++k)
            if (!iv_attn::finite_iv(z[k]) || !iv_attn::finite_iv(k < d ? c[0] : c[1])) q[k] = A::mul(k < d ? c[0] : c[1], z[k]);
      }
      if (!iv_certify::attend_rows<A>(Q, first_query, R, K, Z, D, n_keys, m.softmax, side, panel, AG)) v.error = 1;
      for (int j = first_query; j < R; ++j) {
        const Iv* c = coef + (j == N ? 4 : 0);
        const CIvPtr z = Z + static_cast<long>(j) * D;
        const CIvPtr agg = AG + static_cast<long>(j) * D;
        const IvPtr o = next + static_cast<long>(j) * D;
        iv_attn::scale_row<F>(c[2], agg, o, d);
        iv_attn::scale_row<F>(c[3], agg + d, o + d, D - d);
        if (!coef_finite || !iv_attn::finite_row(agg, D))
          for (int k = 0; k < D; ++k)
            if (!iv_attn::finite_iv(agg[k]) || !iv_attn::finite_iv(k < d ? c[2] : c[3])) o[k] = A::mul(k < d ? c[2] : c[3], agg[k]);
        iv_attn::add_row<F>(z, o, D);
      }
    } else {
      // Per head h: keys S_h z_i, values V_h z_i, queries z_j; z_j += sum_h agg_h.
      for (long e = static_cast<long>(first_query) * D; e < static_cast<long>(R) * D; ++e) next[e] = Z[e];
      for (int h = 0; h < m.heads[l]; ++h) {
        const Iv* S = coef + 2L * h * D * D;
        const Iv* Vm = S + static_cast<long>(D) * D;
        for (int i = 0; i < n_keys; ++i) {
          const CIvPtr z = Z + static_cast<long>(i) * D;
          for (int r = 0; r < D; ++r) {
            Iv ks = A::mul(S[r * D], z[0]), vs = A::mul(Vm[r * D], z[0]);
            for (int c = 1; c < D; ++c) {
              ks = A::add(ks, A::mul(S[r * D + c], z[c]));
              vs = A::add(vs, A::mul(Vm[r * D + c], z[c]));
            }
            K[static_cast<long>(i) * D + r] = ks;
            V[static_cast<long>(i) * D + r] = vs;
          }
        }
        if (m.softmax) iv_certify::centre_keys<A>(K, n_keys, D, centre);
        if (!iv_certify::attend_rows<A>(Z, first_query, R, K, V, D, n_keys, m.softmax, side, panel, AG)) v.error = 1;
        for (int j = first_query; j < R; ++j) {
          const IvPtr o = next + static_cast<long>(j) * D;
          const CIvPtr agg = AG + static_cast<long>(j) * D;
          for (int k = 0; k < D; ++k) o[k] = A::add(o[k], agg[k]);
        }
      }
    }
    const IvPtr tmp = Z;
    Z = next;
    next = tmp;
  }
}

#ifndef ICLCERT_IV_INTERLEAVE
// The same with one buffer of interval_workspace_size(d, C, N) elements.
template <class A = IvArith<>>
ICLCERT_HD inline IntervalVerdict certify_prompt(const ModelView<Iv>& m, int N, const double* X,
                                                 const std::int32_t* labels, const double* probe, int probe_label,
                                                 Iv* workspace, const IntervalOutputs& out = {}) {
  return certify_prompt<A>(m, N, X, labels, probe, probe_label,
                           contiguous_scratch(workspace, interval_workspace_enclosures(m.d, m.C, N)), out);
}
#endif

}  // inline namespace ICLCERT_IV_ISA_NS
}  // namespace iclcert::gpu
