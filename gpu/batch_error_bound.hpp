// The stated error bound of the float path (theory/batch_path.md, "Error bound"):
// a forward bound E_t on |float value - exact value| for every state entry at
// depth t, from the model's coefficients, the state scales s_t = max |Z^t| and the
// unit roundoff u of the arithmetic. It is first order in u (products of two
// rounding terms are dropped), keeps the propagated error's square terms, and
// bounds the softmax's response to score errors by expm1(2 delta) (exact for
// any perturbation of size delta). Loose by design: it holds for every prompt
// of these scales, not just typical ones.
#pragma once

#include "gpu/batch_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace iclcert::gpu {

// scales: s_0..s_L; u: unit roundoff (2^-24 float, 2^-53 double); input_u: the
// relative rounding of the inputs (u, or 0 when they are exact in the arithmetic).
// Returns E_0..E_L.
inline std::vector<double> first_order_error_bound(const ModelView<double>& m, const std::vector<double>& scales,
                                                   int N, double u, double input_u) {
  const int D = m.d + m.C;
  const int n_keys = m.probe_is_key ? N + 1 : N;
  std::vector<double> E(scales.size(), 0.0);
  E[0] = input_u * scales[0];
  for (int t = 0; t < m.layers && t + 1 < static_cast<int>(scales.size()); ++t) {
    const double s = scales[t], e = E[t];
    const double* c = m.coeffs + m.offset[t];
    double next = e + m.heads[t] * u * scales[t + 1];  // the final additions z + head output
    for (int h = 0; h < m.heads[t]; ++h) {
      double s_abs = 0, v_inf = 0, a = 0;
      int score_steps = 0, value_steps = 0;
      if (m.kind[t] == kReducedLayer) {
        for (int row = 0; row < 2; ++row) {  // training and probe coefficients
          const double* r = c + 4 * row;
          s_abs = std::max(s_abs, m.d * std::fabs(r[0]) + m.C * std::fabs(r[1]));
          a = std::max({a, std::fabs(r[2]), std::fabs(r[3])});
        }
        v_inf = 1;
        score_steps = D + 2;  // the coefficient's rounding, q = coef * z, a D-term dot
      } else {
        const double* S = c + 2L * h * D * D;
        const double* V = S + static_cast<long>(D) * D;
        for (int r = 0; r < D; ++r) {
          double row = 0;
          for (int k = 0; k < D; ++k) {
            s_abs += std::fabs(S[r * D + k]);
            row += std::fabs(V[r * D + k]);
          }
          v_inf = std::max(v_inf, row);
        }
        a = 1;
        score_steps = 2 * D + 1;  // keys S z, the dot, and the rounding of S itself
        value_steps = D + 1;
      }
      const double score_max = s * s * s_abs;
      const double ds = (2 * s * e + e * e) * s_abs + score_steps * u * score_max;
      double dw, w_sum;
      if (m.softmax) {
        dw = std::min(2.0, std::expm1(2 * ds) + (n_keys + 8) * u);
        w_sum = 1;
      } else {
        dw = ds + 2 * u * score_max;
        w_sum = score_max;
      }
      const double v_max = v_inf * s;
      const double dv = v_inf * (e + value_steps * u * s);
      const double dagg = dw * v_max + w_sum * dv + dw * dv + (n_keys + 4) * u * w_sum * v_max;
      next += a * (dagg + 2 * u * w_sum * v_max);  // a rounded, a * agg rounded
    }
    E[t + 1] = next;
  }
  return E;
}

}  // namespace iclcert::gpu
