// The per-layer table that `iclcert run` prints, and the same table as CSV
// (`run --csv`).
#pragma once

#include "cli/csv_table.hpp"
#include "numerics/recursion.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace iclcert::cli {

template <Scalar T>
std::string cell(const std::optional<T>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", ScalarTraits<T>::to_double(*v));
  return buf;
}

template <Scalar T>
std::string cell(const Ratio<T>& r) {
  using K = typename Ratio<T>::Kind;
  switch (r.kind) {
    case K::finite: return cell<T>(std::optional<T>(r.value));
    case K::pos_inf: return "+inf";
    case K::undefined: return "null";
    case K::unknown: return "?";
  }
  return "?";
}

template <Scalar T>
void print_table(std::FILE* out, const Trace<T>& trace) {
  std::fprintf(out, "%4s %12s %12s %12s %12s %12s %12s %12s\n", "t", "fisher", "gap_ratio", "min_lbl_mrg",
               "probe_mrg", "probe_align", "probe_att_c", "train_att_c");
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    std::fprintf(out, "%4zu %12s %12s %12s %12s %12s %12s %12s\n", t, cell(e.metrics.fisher).c_str(),
                 cell(e.metrics.gap_ratio).c_str(), cell(e.metrics.min_label_margin).c_str(),
                 cell(e.metrics.probe_margin).c_str(), cell(e.metrics.probe_alignment).c_str(),
                 cell(e.probe_attention_same_class).c_str(), cell(e.train_attention_same_class).c_str());
  }
}

// `run --csv`: one row per arithmetic and depth t, the metrics under their
// names in the trace file, each the nearest double (an enclosure's midpoint);
// +inf is "inf", an undefined ratio or an absent metric an empty cell.
inline CsvTable trace_csv_table() {
  return CsvTable({"arithmetic", "t", "fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment",
                   "probe_attention_same_class", "train_attention_same_class"});
}

template <Scalar T>
void add_trace_rows(CsvTable& table, const Trace<T>& trace, const std::string& arithmetic) {
  auto value = [&](const std::optional<T>& v) -> CsvTable& {
    return v ? table.number(ScalarTraits<T>::to_double(*v)) : table.empty();
  };
  auto ratio = [&](const Ratio<T>& r) -> CsvTable& {
    using K = typename Ratio<T>::Kind;
    if (r.kind == K::finite) return table.number(ScalarTraits<T>::to_double(r.value));
    if (r.kind == K::pos_inf) return table.number(HUGE_VAL);
    return table.empty();
  };
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    table.row().text(arithmetic).integer(static_cast<long long>(t));
    ratio(e.metrics.fisher);
    ratio(e.metrics.gap_ratio);
    value(e.metrics.min_label_margin);
    value(e.metrics.probe_margin);
    value(e.metrics.probe_alignment);
    value(e.probe_attention_same_class);
    value(e.train_attention_same_class);
  }
}

}  // namespace iclcert::cli
