// The per-layer table that `iclcert run` prints.
#pragma once

#include "numerics/recursion.hpp"

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

}  // namespace iclcert::cli
