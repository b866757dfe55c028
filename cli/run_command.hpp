#pragma once

#include "api/arithmetic.hpp"
#include "numerics/recursion.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <functional>

namespace iclcert::cli {

// `iclcert run`: the recursion on one prompt, a per-layer table, an optional trace.
// Returns the action to run once the command line is parsed.
std::function<int()> register_run(CLI::App& app);

inline bool is_finite_value(double v) { return std::isfinite(v); }
inline bool is_finite_value(const MpfrReal& v) { return mpfr_number_p(v.get()) != 0; }

// The first depth t whose state or metrics hold an infinity or a NaN in a
// rounded arithmetic, or -1: such a run has overflowed and its numbers mean nothing.
template <Scalar T>
int first_non_finite_depth(const Trace<T>& trace) {
  auto bad = [](const std::optional<T>& v) { return v && !is_finite_value(*v); };
  auto bad_ratio = [](const Ratio<T>& r) { return r.kind == Ratio<T>::Kind::finite && !is_finite_value(r.value); };
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    for (int j = 0; j < e.state.rows(); ++j)
      for (int k = 0; k < e.state.d + e.state.C; ++k)
        if (!is_finite_value(e.state.Z(j, k))) return static_cast<int>(t);
    if (bad_ratio(e.metrics.fisher) || bad_ratio(e.metrics.gap_ratio) || bad(e.metrics.min_label_margin) ||
        bad(e.metrics.probe_margin) || bad(e.metrics.probe_alignment) || bad(e.probe_attention_same_class) ||
        bad(e.train_attention_same_class))
      return static_cast<int>(t);
  }
  return -1;
}

// Throws std::invalid_argument (the message of `run`, exit 2) for a trace of a
// rounded arithmetic (double, mpfr) that overflowed; exact and interval runs pass.
[[noreturn]] void overflow_error(const Arithmetic& a, int t);
template <Scalar T>
void require_finite_trace(const Trace<T>& trace, const Arithmetic& a) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, MpfrReal>)
    if (const int t = first_non_finite_depth(trace); t >= 0) overflow_error(a, t);
}

}  // namespace iclcert::cli
