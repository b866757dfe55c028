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

// Elements of Iv one prompt needs as scratch: state and next state ((N+1) x D each),
// keys and values (n_keys x D each), a query and an aggregate (D each), and per
// query the scores, the exps and the prefix sums (n_keys each).
ICLCERT_HD inline long interval_workspace_size(int d, int C, int N) {
  const long D = d + C, R = N + 1;
  return 4 * R * D + 2 * D + 3 * R;
}

namespace iv_certify {

// The softmax enclosure of one row (theory/softmax_enclosure.md, and
// theory/interval_kernel.md for the O(n) form): scores t (n), weights w (n);
// E and sums are scratch (n each). Returns false if step 2's intersection is empty.
template <class A>
ICLCERT_HD inline bool softmax_row(const Iv* t, int n, Iv* w, Iv* E, Iv* sums) {
  using namespace iv_detail;
  bool finite = true;
  double m = -kInf;
  for (int i = 0; i < n; ++i) {
    finite = finite && t[i].lo > -kInf && t[i].hi < kInf;  // false for NaN too
    m = max2(m, iv_mid(t[i]));
  }
  if (finite) {
    // Step 1. exp(t_j - t_i) = exp(t_j - m) exp(m - t_i) for a point m (exact), so
    // D_i = 1 + sum_{j != i} exp(t_j - t_i) lies in
    //   [1 + lo(F_i) SL_i, 1 + hi(F_i) SH_i],  E_j = exp(T_j - m), F_i = 1 / E_i,
    // SL_i / SH_i the leave-one-out sums of lo(E) / hi(E) rounded down / up: the
    // same interval as the differences T_j - T_i would give, in O(n) exps.
    for (int i = 0; i < n; ++i) {
      E[i] = A::exp(A::sub(t[i], A::point(m)));
      E[i].lo = max2(E[i].lo, 0.0);  // exp > 0
    }
    // sums[i] = (sum_{j < i} lo(E_j) down, sum_{j < i} hi(E_j) up).
    Iv run{0, 0};
    for (int i = 0; i < n; ++i) {
      sums[i] = run;
      run = A::add(run, E[i]);
    }
    Iv suffix{0, 0};
    for (int i = n - 1; i >= 0; --i) {
      const Iv others = A::add(sums[i], suffix);  // [SL_i, SH_i]
      suffix = A::add(suffix, E[i]);
      // F_i = 1 / E_i: [1 / hi(E_i) down, 1 / lo(E_i) up] (+inf when lo(E_i) = 0).
      const Iv one{1, 1};
      const double f_lo = A::div(one, Iv{E[i].hi, E[i].hi}).lo;
      const double f_hi = E[i].lo > 0 ? A::div(one, Iv{E[i].lo, E[i].lo}).hi : kInf;
      const Iv prod = A::mul(Iv{f_lo, f_hi}, others);  // 0 * inf counts as 0
      const Iv D = A::add(one, Iv{max2(prod.lo, 0.0), prod.hi});
      // w_i = 1 / D_i with D_i >= 1: [1 / hi(D) down, 1 / lo(D) up], within [0, 1].
      const Iv q = A::div(one, D);
      w[i] = {max2(q.lo, 0.0), min2(q.hi, 1.0)};
    }
  } else {
    for (int i = 0; i < n; ++i) w[i] = {0, 1};  // true for any scores
  }
  // Step 2. The weights sum to 1: w_i = 1 - sum_{j != i} w_j, so w_i lies in
  // [1 - sum_{j != i} hi(w_j), 1 - sum_{j != i} lo(w_j)]; intersect.
  Iv run{0, 0};
  for (int i = 0; i < n; ++i) {
    sums[i] = run;
    run = A::add(run, w[i]);
  }
  Iv suffix{0, 0};
  bool ok = true;
  for (int i = n - 1; i >= 0; --i) {
    const Iv others = A::add(sums[i], suffix);
    suffix = A::add(suffix, w[i]);
    const Iv rest = A::sub(Iv{1, 1}, others);
    const Iv v{max2(w[i].lo, rest.lo), min2(w[i].hi, rest.hi)};
    if (!(v.lo <= v.hi)) ok = false;  // disjoint: an upstream enclosure is wrong
    else w[i] = v;
  }
  return ok;
}

// One head's attention for query q (D values): scores against the keys K (n x D,
// row-major), weights, and agg = sum_i w_i V_i. For softmax the keys arrive centred
// (K_i - c for a point c: the common shift q.c of a row cancels in the softmax and
// narrows the scores); for linear they are the keys themselves.
template <class A>
ICLCERT_HD inline bool attend_query(const Iv* q, const Iv* K, const Iv* V, int D, int n, int softmax, Iv* t,
                                    Iv* E, Iv* sums, Iv* agg) {
  for (int i = 0; i < n; ++i) {
    const Iv* k = K + static_cast<long>(i) * D;
    Iv s = A::mul(q[0], k[0]);
    for (int c = 1; c < D; ++c) s = A::add(s, A::mul(q[c], k[c]));
    t[i] = s;
  }
  bool ok = true;
  if (softmax) {
    ok = softmax_row<A>(t, n, t, E, sums);
  } else {
    const Iv nk = A::point(static_cast<double>(n));
    for (int i = 0; i < n; ++i) t[i] = A::div(t[i], nk);
  }
  for (int c = 0; c < D; ++c) agg[c] = Iv{0, 0};
  for (int i = 0; i < n; ++i) {
    const Iv* v = V + static_cast<long>(i) * D;
    for (int c = 0; c < D; ++c) agg[c] = A::add(agg[c], A::mul(t[i], v[c]));
  }
  return ok;
}

// Keys K_i - c with c the midpoint of the keys' midpoints' mean (any point would do).
template <class A>
ICLCERT_HD inline void centre_keys(Iv* K, int n, int D) {
  for (int c = 0; c < D; ++c) {
    double mean = 0;
    for (int i = 0; i < n; ++i) mean += iv_mid(K[static_cast<long>(i) * D + c]);
    mean /= n;
    if (!(mean - mean == 0)) mean = 0;  // not finite: no shift
    for (int i = 0; i < n; ++i) K[static_cast<long>(i) * D + c] = A::sub(K[static_cast<long>(i) * D + c], A::point(mean));
  }
}

// y[c*] - max_{c != c*} y[c] and c* for the label block y (C values).
template <class A>
ICLCERT_HD inline Iv margin_of(const Iv* y, int C, int best) {
  for (int c = 0; c < C; ++c)
    if (y[c].lo != y[c].lo || y[c].hi != y[c].hi) return {y[c].lo + y[c].hi, y[c].lo + y[c].hi};  // NaN: undecided
  if (C < 2) return {iv_detail::kInf, iv_detail::kInf};  // one class: nothing to beat
  Iv other = y[best == 0 ? 1 : 0];
  for (int c = 0; c < C; ++c)
    if (c != best) other = A::max(other, y[c]);
  return A::sub(y[best], other);
}
ICLCERT_HD inline int argmax_mid(const Iv* y, int C) {
  int best = 0;
  for (int c = 1; c < C; ++c)
    if (iv_mid(y[c]) > iv_mid(y[best])) best = c;
  return best;
}

}  // namespace iv_certify

// The whole recursion for one prompt. X: N x d, probe: d (doubles, exact); labels:
// N classes; probe_label: -1 when unknown (then label_margin is NaN); workspace:
// interval_workspace_size(d, C, N) elements. A: the arithmetic (planted faults in
// tests only).
template <class A = IvArith<>>
ICLCERT_HD inline IntervalVerdict certify_prompt(const ModelView<Iv>& m, int N, const double* X,
                                                 const std::int32_t* labels, const double* probe, int probe_label,
                                                 Iv* workspace, const IntervalOutputs& out = {}) {
  const int d = m.d, C = m.C, D = d + C, R = N + 1;
  const int n_keys = m.probe_is_key ? N + 1 : N;
  Iv* Z = workspace;
  Iv* next = Z + static_cast<long>(R) * D;
  Iv* K = next + static_cast<long>(R) * D;
  Iv* V = K + static_cast<long>(R) * D;
  Iv* q = V + static_cast<long>(R) * D;
  Iv* agg = q + D;
  Iv* t = agg + D;
  Iv* E = t + R;
  Iv* sums = E + R;
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
    const Iv* y = Z + static_cast<long>(N) * D + d;
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
      if (m.softmax) iv_certify::centre_keys<A>(K, n_keys, D);
      for (int j = first_query; j < R; ++j) {
        const Iv* c = coef + (j == N ? 4 : 0);
        const Iv* z = Z + static_cast<long>(j) * D;
        for (int k = 0; k < D; ++k) q[k] = A::mul(k < d ? c[0] : c[1], z[k]);
        if (!iv_certify::attend_query<A>(q, K, Z, D, n_keys, m.softmax, t, E, sums, agg)) v.error = 1;
        Iv* o = next + static_cast<long>(j) * D;
        for (int k = 0; k < D; ++k) o[k] = A::add(z[k], A::mul(k < d ? c[2] : c[3], agg[k]));
      }
    } else {
      // Per head h: keys S_h z_i, values V_h z_i, queries z_j; z_j += sum_h agg_h.
      for (long e = static_cast<long>(first_query) * D; e < static_cast<long>(R) * D; ++e) next[e] = Z[e];
      for (int h = 0; h < m.heads[l]; ++h) {
        const Iv* S = coef + 2L * h * D * D;
        const Iv* Vm = S + static_cast<long>(D) * D;
        for (int i = 0; i < n_keys; ++i) {
          const Iv* z = Z + static_cast<long>(i) * D;
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
        if (m.softmax) iv_certify::centre_keys<A>(K, n_keys, D);
        for (int j = first_query; j < R; ++j) {
          if (!iv_certify::attend_query<A>(Z + static_cast<long>(j) * D, K, V, D, n_keys, m.softmax, t, E, sums, agg))
            v.error = 1;
          Iv* o = next + static_cast<long>(j) * D;
          for (int k = 0; k < D; ++k) o[k] = A::add(o[k], agg[k]);
        }
      }
    }
    Iv* tmp = Z;
    Z = next;
    next = tmp;
  }
}

}  // namespace iclcert::gpu
