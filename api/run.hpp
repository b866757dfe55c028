// `run` as a call: the recursion on one prompt in one or more arithmetics, its
// per-layer table and trace.
#pragma once

#include "api/account.hpp"
#include "api/arithmetic.hpp"
#include "api/control.hpp"
#include "api/instance.hpp"
#include "io/json_reader.hpp"
#include "numerics/recursion.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

struct RunRequest {
  // The instance: as given, else from `instance` (files, the sampler) or the embedded default.
  std::optional<Prompt> prompt;
  std::optional<Model> model;
  std::string prompt_source = "the given prompt", model_source = "the given model";
  InstanceOptions instance;
  std::vector<Arithmetic> arithmetics;  // empty: double and mpfr:256
  // Files to write (empty: none; "-": standard output): the trace (one arithmetic
  // only) and the table of every arithmetic as CSV (docs/formats.md).
  std::string json_out, csv_out;
  AccountReceiver on_account;
};

struct RunTrace {
  Arithmetic arithmetic;
  Json trace;  // the trace file's content (docs/formats.md)
  double milliseconds = 0;
  std::optional<double> difference_from_double;  // largest relative metric difference, after a double run
};

struct RunResult {
  std::vector<RunTrace> runs;  // one per arithmetic, in the request's order
  std::string csv;             // the table of every run, as `run --csv` writes it
  std::string account;         // what `iclcert run` prints
  int exit_status = 0;
};

// Throws std::invalid_argument or InputError (bad input; a rounded arithmetic that
// overflowed) and Cancelled.
RunResult run(const RunRequest& request, const Control& control = {});

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

}  // namespace iclcert::api

// Transitional (issue 24): python/_core.cpp names these cli::.
namespace iclcert::cli {
using namespace iclcert::api;
}
