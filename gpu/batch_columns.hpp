// The batch kernel arranged for the GPU: one thread per token column. A "team" of
// threads (a CUDA block) runs G prompts together; each prompt's transposed state
// ZT[k * P + j] lives in memory the team shares (CUDA shared memory), and each
// thread keeps its own column z_j, its query and its aggregate in registers.
//
// Bit for bit the CPU backend's values. batch_kernel.hpp computes every query
// column on its own vector lane, and each sum there runs over features k or keys i
// in sequence; the functions below perform, for one column, exactly the operations
// of that lane in the same order: the same IEEE mul, add, div and max, the same
// explicit fused multiply-adds (fmadd: fmaf / fma here, __builtin_fma on the host,
// correctly rounded on both), nothing else fused (nvcc --fmad=false, g++
// -ffp-contract=off), and the kernel's own exp (its reduction and polynomial in
// fmadd steps): scores acc = q_0 k_0i, acc = fmadd(q_k, k_ki, acc); max m = s_0,
// m = s_i > m ? s_i : m in key order; w_i = exp(s_i - m); sum = ((0 + w_0) + w_1)
// + ...; r = 1 / sum (linear: s_i unchanged, r = 1 / n_keys); agg_k =
// fmadd(w_i, v_ki, agg_k) from 0 in key order, then agg_k * r; the probe's mass
// sum of w_i * r; the update fmadd(alpha, agg, z). Loading four or eight keys at
// a time only changes which memory load brings a value, never the order of a sum.
// The metrics reuse batch_kernel.hpp's functions on the shared state; only the gap
// ratio's squared distances are computed by the columns' threads in parallel (each
// pair's sum in the same order) before one thread scans them in the CPU's order.
//
// The team's program (run_team) is written once over a Team that supplies the
// shared memory and a barrier: the CUDA kernel (batch_cuda.cu) runs it with one
// thread per column and __syncthreads(); emulate_teams() below runs it on the CPU,
// each phase for every column in turn, and the tests compare that with the CPU
// backend, so the GPU arrangement is tested without a GPU.
#pragma once

#include "gpu/batch_kernel.hpp"

namespace iclcert::gpu {

// How a team is laid out: G prompts, threads mapped to (prompt g, column j). The
// first G threads take the probe columns (j = N) of the G prompts, so that a
// final-only run's last layer, which only needs the probes, runs in one warp; the
// next G N threads take the training columns; the rest (up to a multiple of 32)
// idle. Shared memory, in elements of T: per prompt ZT, then (dense models) the
// keys KT and values VT, then class means (C d), mean (d) and a distance row
// (P); after the G prompts, the attention weights, one column per thread
// (n_keys x threads), also used for the gap ratio's distances between layers.
struct TeamLayout {
  int G = 1, N = 0, d = 0, C = 0, D = 0, n_keys = 0;
  int P = 0;        // column stride: N + 1 rounded up to a multiple of 4
  int threads = 0;  // G (N + 1) rounded up to a multiple of 32
  long per_prompt = 0, weights = 0;
  bool dense = false;

  ICLCERT_HD long shared_elems() const { return G * per_prompt + weights; }
  ICLCERT_HD long zt(int g) const { return g * per_prompt; }
  ICLCERT_HD long kt(int g) const { return g * per_prompt + static_cast<long>(D) * P; }
  ICLCERT_HD long vt(int g) const { return g * per_prompt + 2L * D * P; }
  ICLCERT_HD long class_mean(int g) const { return g * per_prompt + (dense ? 3L : 1L) * D * P; }
  ICLCERT_HD long mean(int g) const { return class_mean(g) + static_cast<long>(C) * d; }
  ICLCERT_HD long dist(int g) const { return mean(g) + d; }
  ICLCERT_HD long weights_at() const { return G * per_prompt; }
  // The prompt (g) and column (j) of thread tid; j = -1 for an idle thread.
  ICLCERT_HD void column_of(int tid, int& g, int& j) const {
    if (tid < G) {
      g = tid;
      j = N;
    } else if (tid - G < G * N) {
      g = (tid - G) / N;
      j = (tid - G) % N;
    } else {
      g = 0;
      j = -1;
    }
  }
};

ICLCERT_HD inline TeamLayout team_layout(int G, int d, int C, int N, int probe_is_key, bool dense) {
  TeamLayout t;
  t.G = G;
  t.N = N;
  t.d = d;
  t.C = C;
  t.D = d + C;
  t.n_keys = probe_is_key ? N + 1 : N;
  t.P = (N + 1 + 3) / 4 * 4;
  t.threads = (G * (N + 1) + 31) / 32 * 32;
  t.dense = dense;
  const long per = (dense ? 3L : 1L) * t.D * t.P + static_cast<long>(C) * d + d + t.P;
  t.per_prompt = (per + 3) / 4 * 4;  // keeps every prompt's ZT 16-byte aligned in float, 32 in double
  t.weights = static_cast<long>(t.n_keys) * t.threads;
  // The gap ratio's distances (G N x N) reuse the weights area: N x G N <= n_keys x threads.
  return t;
}

// What a team reads and writes (device or host pointers, as the runner gives).
template <class T>
struct TeamArgs {
  ModelView<T> m;
  TeamLayout lay;
  int count = 0;  // prompts in the launch
  int detail = 0;  // 0 final only, 1 per layer, 2 with states (Detail's order)
  const T* X = nullptr;
  const std::int32_t* labels = nullptr;
  const T* probe = nullptr;
  const std::int32_t* probe_label = nullptr;
  std::int32_t* predictions = nullptr;
  T* margins = nullptr;
  LayerRecord<T>* records = nullptr;
  T* states = nullptr;
};

// One thread's registers: its column, its query (reduced layers) or its next
// column (dense layers), its aggregate, and the probe's attention mass.
template <class T, int MAXD>
struct ColumnRegs {
  T z[MAXD], q[MAXD], agg[MAXD];
  T mass;
};

// Four consecutive values (16-byte aligned in float, 32 in double): one vector load
// on the device, four loads on the host; the values are the same.
template <class T>
ICLCERT_HD inline void load4(const T* p, T& a, T& b, T& c, T& e) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    a = v.x, b = v.y, c = v.z, e = v.w;
  } else {
    const double2 v0 = reinterpret_cast<const double2*>(p)[0], v1 = reinterpret_cast<const double2*>(p)[1];
    a = v0.x, b = v0.y, c = v1.x, e = v1.y;
  }
#else
  a = p[0], b = p[1], c = p[2], e = p[3];
#endif
}

// Whether the aggregate also takes eight keys per step (the score loop always
// does). Same values either way. In the SASS (sm_90, team_kernel<float, 24>) it
// cuts the aggregate loop from about 66 to 49 instructions per key but takes
// the kernel from 96 to 128 registers (double: 194 to 209), fewer teams per
// multiprocessor: off until a GPU measurement says which is faster.
inline constexpr bool kAggregateEight = false;

// One query column's attention: w_i (stride ws) = the unnormalised weights of the
// scores s_i = sum_k q_k KT[k][i] over the n_keys keys, then agg_k = r sum_i w_i
// VT[k][i] with r = 1 / sum_i w_i (returned, for the probe's mass); the operations
// and their order are those of score_panel (host_scores), softmax_columns
// (host_exp_rows) and aggregate_panel (host_aggregate) for this column. The max of
// the scores is taken as they are computed, in key order (as host_scores does).
template <class T, int MAXD>
ICLCERT_HD inline T attend_column(const T* q, const T* KT, const T* VT, int D, int P, int n_keys, int softmax,
                                  T* w, int ws, T* agg) {
  T m = T(0);
  auto keep_max = [&](int i, T s) { m = i == 0 ? s : (s > m ? s : m); };
  int i = 0;
  for (; i + 8 <= n_keys; i += 8) {  // 8 keys per step: one feature's test and address serve 8 products
    T a[8];
    load4(KT + i, a[0], a[1], a[2], a[3]);
    load4(KT + i + 4, a[4], a[5], a[6], a[7]);
ICLCERT_UNROLL
    for (int u = 0; u < 8; ++u) a[u] = q[0] * a[u];
ICLCERT_UNROLL
    for (int k = 1; k < MAXD; ++k)
      if (k < D) {
        T kv[8];
        const T* kr = KT + static_cast<long>(k) * P + i;
        load4(kr, kv[0], kv[1], kv[2], kv[3]);
        load4(kr + 4, kv[4], kv[5], kv[6], kv[7]);
ICLCERT_UNROLL
        for (int u = 0; u < 8; ++u) a[u] = fmadd(q[k], kv[u], a[u]);
      }
ICLCERT_UNROLL
    for (int u = 0; u < 8; ++u) {
      w[static_cast<long>(i + u) * ws] = a[u];
      keep_max(i + u, a[u]);
    }
  }
  for (; i + 4 <= n_keys; i += 4) {
    T k0, k1, k2, k3;
    load4(KT + i, k0, k1, k2, k3);
    T a0 = q[0] * k0, a1 = q[0] * k1, a2 = q[0] * k2, a3 = q[0] * k3;
ICLCERT_UNROLL
    for (int k = 1; k < MAXD; ++k)
      if (k < D) {
        load4(KT + static_cast<long>(k) * P + i, k0, k1, k2, k3);
        a0 = fmadd(q[k], k0, a0);
        a1 = fmadd(q[k], k1, a1);
        a2 = fmadd(q[k], k2, a2);
        a3 = fmadd(q[k], k3, a3);
      }
    w[static_cast<long>(i) * ws] = a0;
    w[static_cast<long>(i + 1) * ws] = a1;
    w[static_cast<long>(i + 2) * ws] = a2;
    w[static_cast<long>(i + 3) * ws] = a3;
    keep_max(i, a0);
    keep_max(i + 1, a1);
    keep_max(i + 2, a2);
    keep_max(i + 3, a3);
  }
  for (; i < n_keys; ++i) {
    T a = q[0] * KT[i];
ICLCERT_UNROLL
    for (int k = 1; k < MAXD; ++k)
      if (k < D) a = fmadd(q[k], KT[static_cast<long>(k) * P + i], a);
    w[static_cast<long>(i) * ws] = a;
    keep_max(i, a);
  }
  T r;
  if (softmax) {
    T sum = T(0);
    for (i = 0; i < n_keys; ++i) {
      const T e = kernel_exp<T>(w[static_cast<long>(i) * ws] - m);
      w[static_cast<long>(i) * ws] = e;
      sum = sum + e;
    }
    r = T(1) / sum;
  } else {
    r = T(1) / static_cast<T>(n_keys);
  }
ICLCERT_UNROLL
  for (int k = 0; k < MAXD; ++k) agg[k] = T(0);
  i = 0;
  if constexpr (kAggregateEight)
    for (; i + 8 <= n_keys; i += 8) {
      T wv[8];
ICLCERT_UNROLL
      for (int u = 0; u < 8; ++u) wv[u] = w[static_cast<long>(i + u) * ws];
ICLCERT_UNROLL
      for (int k = 0; k < MAXD; ++k)
        if (k < D) {
          T v[8];
          const T* vr = VT + static_cast<long>(k) * P + i;
          load4(vr, v[0], v[1], v[2], v[3]);
          load4(vr + 4, v[4], v[5], v[6], v[7]);
ICLCERT_UNROLL
          for (int u = 0; u < 8; ++u) agg[k] = fmadd(wv[u], v[u], agg[k]);
        }
    }
  for (; i + 4 <= n_keys; i += 4) {
    const T w0 = w[static_cast<long>(i) * ws], w1 = w[static_cast<long>(i + 1) * ws],
            w2 = w[static_cast<long>(i + 2) * ws], w3 = w[static_cast<long>(i + 3) * ws];
ICLCERT_UNROLL
    for (int k = 0; k < MAXD; ++k)
      if (k < D) {
        T v0, v1, v2, v3;
        load4(VT + static_cast<long>(k) * P + i, v0, v1, v2, v3);
        agg[k] = fmadd(w0, v0, agg[k]);
        agg[k] = fmadd(w1, v1, agg[k]);
        agg[k] = fmadd(w2, v2, agg[k]);
        agg[k] = fmadd(w3, v3, agg[k]);
      }
  }
  for (; i < n_keys; ++i) {
    const T wi = w[static_cast<long>(i) * ws];
ICLCERT_UNROLL
    for (int k = 0; k < MAXD; ++k)
      if (k < D) agg[k] = fmadd(wi, VT[static_cast<long>(k) * P + i], agg[k]);
  }
ICLCERT_UNROLL
  for (int k = 0; k < MAXD; ++k) agg[k] = agg[k] * r;
  return r;
}

// The probe's attention mass on the training keys of its class (attend_head's
// sum of w_i * r).
template <class T>
ICLCERT_HD inline T probe_mass(const T* w, int ws, T r, int N, const std::int32_t* labels, int probe_label) {
  T mass = T(0);
  for (int i = 0; i < N; ++i)
    if (labels[i] == probe_label) mass += w[static_cast<long>(i) * ws] * r;
  return mass;
}

// The team's whole program: load, then per depth the metrics (unless final only)
// and the layer. Team supplies `T* shared`, `int first` (the team's first prompt)
// and `each(f)`, which runs f(tid, regs) for every thread of the team and then
// waits for all of them (a barrier).
template <class T, int MAXD, class Team>
ICLCERT_HD void run_team(const TeamArgs<T>& a, Team& team) {
  const ModelView<T>& m = a.m;
  const TeamLayout& lay = a.lay;
  const int d = m.d, C = m.C, D = lay.D, N = lay.N, P = lay.P, L = m.layers;
  const long L1 = L + 1;
  T* sh = team.shared;
  // Thread tid's prompt index b, its column j and whether it has work.
  auto where = [&](int tid, int& g, int& j, long& b) {
    lay.column_of(tid, g, j);
    b = static_cast<long>(team.first) + g;
    return j >= 0 && b < a.count;
  };
  // Loops over a column's registers run to MAXD, unrolled, with k < D tested
  // inside: an index known at compile time keeps the arrays in registers.
  auto write_column = [&](int g, int j, const T* z) {
    T* ZT = sh + lay.zt(g);
ICLCERT_UNROLL
    for (int k = 0; k < MAXD; ++k)
      if (k < D) ZT[static_cast<long>(k) * P + j] = z[k];
  };
  // Load: training rows (x_i, e_{c_i}), the probe (x_q, y_q), zero padding.
  team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
    int g, j;
    long b;
    if (!where(tid, g, j, b)) return;
    if (j < N) {
      const int label = a.labels[b * N + j];
ICLCERT_UNROLL
      for (int k = 0; k < MAXD; ++k)
        r.z[k] = k < d ? a.X[(b * N + j) * d + k] : k - d == label ? T(1) : T(0);
    } else {
      const T y = m.probe_label_uniform ? T(1) / static_cast<T>(C) : T(0);
ICLCERT_UNROLL
      for (int k = 0; k < MAXD; ++k) r.z[k] = k < d ? a.probe[b * d + k] : k < D ? y : T(0);
      T* ZT = sh + lay.zt(g);
      for (int jj = N + 1; jj < P; ++jj)
        for (int k = 0; k < D; ++k) ZT[static_cast<long>(k) * P + jj] = T(0);
    }
    write_column(g, j, r.z);
  });
  T* W = sh + lay.weights_at();
  const int ws = lay.threads;
  for (int t = 0; t <= L; ++t) {
    const bool last = t == L;
    if (a.detail != 0) {
      // The gap ratio's squared distances, row i = this column, pairs j > i, into W.
      team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
        int g, j;
        long b;
        if (!where(tid, g, j, b)) return;
        if (a.detail == 2)
ICLCERT_UNROLL
          for (int k = 0; k < MAXD; ++k)
            if (k < D) a.states[((b * L1 + t) * (N + 1) + j) * D + k] = r.z[k];
        if (j == N) return;
        const T* ZT = sh + lay.zt(g);
        T* row = W + (static_cast<long>(g) * N + j) * N;
        for (int jj = j + 1; jj < N; ++jj) row[jj] = T(0);
ICLCERT_UNROLL
        for (int k = 0; k < MAXD; ++k) {
          if (k >= d) continue;
          const T xi = r.z[k];
          const T* zk = ZT + static_cast<long>(k) * P;
          for (int jj = j + 1; jj < N; ++jj) {
            const T diff = xi - zk[jj];
            row[jj] += diff * diff;
          }
        }
      });
      team.each([&](int tid, ColumnRegs<T, MAXD>&) {
        int g, j;
        long b;
        if (!where(tid, g, j, b) || j != N) return;
        const std::int32_t* labels = a.labels + b * N;
        LayerRecord<T>& rec = a.records[b * L1 + t];
        record_except_gap(sh + lay.zt(g), P, d, C, N, labels, a.probe_label[b], sh + lay.class_mean(g),
                          sh + lay.mean(g), rec);
        GapScan<T> gap;
        for (int i = 0; i < N; ++i) gap.row(i, N, labels, W + (static_cast<long>(g) * N + i) * N);
        rec.gap_ratio = gap.ratio();
        if (last) a.predictions[b] = rec.prediction;
      });
    }
    if (last) break;
    // Layer t. In a final-only run the last layer only computes the probes.
    const bool probes_only = a.detail == 0 && t == L - 1;
    const T* c = m.coeffs + m.offset[t];
    const int n_keys = lay.n_keys;
    if (m.kind[t] == kReducedLayer) {
      team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
        int g, j;
        long b;
        if (!where(tid, g, j, b) || (probes_only && j != N)) return;
        const T* ZT = sh + lay.zt(g);
        const T qx = j == N ? c[4] : c[0], qy = j == N ? c[5] : c[1];
ICLCERT_UNROLL
        for (int k = 0; k < MAXD; ++k) r.q[k] = (k < d ? qx : qy) * r.z[k];
        T* w = W + tid;
        const T rs = attend_column<T, MAXD>(r.q, ZT, ZT, D, P, n_keys, m.softmax, w, ws, r.agg);
        const int cq = a.probe_label[b];
        if (j == N && cq >= 0) r.mass = probe_mass(w, ws, rs, N, a.labels + b * N, cq);
        const T ax = j == N ? c[6] : c[2], ay = j == N ? c[7] : c[3];
ICLCERT_UNROLL
        for (int k = 0; k < MAXD; ++k)
          if (k < D) r.z[k] = fmadd(k < d ? ax : ay, r.agg[k], r.z[k]);
      });
    } else {
      const int heads = m.heads[t];
      for (int h = 0; h < heads; ++h) {
        const T* S = c + 2L * h * D * D;
        const T* V = S + static_cast<long>(D) * D;
        // This column's key S z_j and value V z_j, for every thread to read.
        team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
          int g, j;
          long b;
          if (!where(tid, g, j, b)) return;
          if (h == 0) {
ICLCERT_UNROLL
            for (int k = 0; k < MAXD; ++k) r.q[k] = r.z[k];
            r.mass = T(0);
          }
          T* KT = sh + lay.kt(g);
          T* VT = sh + lay.vt(g);
          for (int row = 0; row < D; ++row) {
            T kacc = S[row * D] * r.z[0], vacc = V[row * D] * r.z[0];
ICLCERT_UNROLL
            for (int col = 1; col < MAXD; ++col)
              if (col < D) {
                kacc = fmadd(S[row * D + col], r.z[col], kacc);
                vacc = fmadd(V[row * D + col], r.z[col], vacc);
              }
            KT[static_cast<long>(row) * P + j] = kacc;
            VT[static_cast<long>(row) * P + j] = vacc;
          }
        });
        team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
          int g, j;
          long b;
          if (!where(tid, g, j, b) || (probes_only && j != N)) return;
          T* w = W + tid;
          const T rs = attend_column<T, MAXD>(r.z, sh + lay.kt(g), sh + lay.vt(g), D, P, n_keys, m.softmax, w, ws,
                                              r.agg);
          const int cq = a.probe_label[b];
          if (j == N && cq >= 0) r.mass += probe_mass(w, ws, rs, N, a.labels + b * N, cq);
ICLCERT_UNROLL
          for (int k = 0; k < MAXD; ++k) r.q[k] += r.agg[k];  // next = z + sum over heads of agg, in head order
        });
      }
      team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
        int g, j;
        long b;
        if (!where(tid, g, j, b) || (probes_only && j != N)) return;
ICLCERT_UNROLL
        for (int k = 0; k < MAXD; ++k) r.z[k] = r.q[k];
        if (j == N) r.mass = r.mass / static_cast<T>(heads);
      });
    }
    // Every thread has read the old state: write the new one.
    team.each([&](int tid, ColumnRegs<T, MAXD>& r) {
      int g, j;
      long b;
      if (!where(tid, g, j, b) || (probes_only && j != N)) return;
      write_column(g, j, r.z);
      if (j == N && a.detail != 0 && a.probe_label[b] >= 0) a.records[b * L1 + t].probe_attention_same_class = r.mass;
    });
  }
  if (a.detail == 0)
    team.each([&](int tid, ColumnRegs<T, MAXD>&) {
      int g, j;
      long b;
      if (!where(tid, g, j, b) || j != N) return;
      const T* ZT = sh + lay.zt(g);
      a.predictions[b] = probe_prediction(ZT, P, d, C, N);
      const int cq = a.probe_label[b];
      a.margins[b] = cq >= 0 ? label_margin(ZT, d, C, P, N, cq) : quiet_nan<T>();
    });
}

// The register bound a model's width D needs (0: wider than the column kernel
// takes; the per-prompt kernel runs it).
inline int column_regs_for(int D) {
  return D <= 8 ? 8 : D <= 16 ? 16 : D <= 24 ? 24 : D <= 32 ? 32 : 0;
}

}  // namespace iclcert::gpu
