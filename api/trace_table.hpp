// The per-layer table of a run (api::run's account, `iclcert run`), and the same
// table as CSV (`run --csv`).
#pragma once

#include "api/csv_table.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string>

namespace iclcert::api {

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
std::string trace_table(const Trace<T>& trace) {
  char line[160];
  std::snprintf(line, sizeof line, "%4s %12s %12s %12s %12s %12s %12s %12s\n", "t", "fisher", "gap_ratio",
                "min_lbl_mrg", "probe_mrg", "probe_align", "probe_att_c", "train_att_c");
  std::string out = line;
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    std::snprintf(line, sizeof line, "%4zu %12s %12s %12s %12s %12s %12s %12s\n", t, cell(e.metrics.fisher).c_str(),
                  cell(e.metrics.gap_ratio).c_str(), cell(e.metrics.min_label_margin).c_str(),
                  cell(e.metrics.probe_margin).c_str(), cell(e.metrics.probe_alignment).c_str(),
                  cell(e.probe_attention_same_class).c_str(), cell(e.train_attention_same_class).c_str());
    out += line;
  }
  return out;
}

// `run --csv`: one row per arithmetic and depth t, the metrics under their
// names in the trace file, each the nearest double (an enclosure's midpoint);
// +inf is "inf", an undefined ratio or an absent metric an empty cell. When an
// --arith is an interval one, NAME_lo and NAME_hi follow for each metric: the
// enclosure rounded outward to doubles (empty on the other arithmetics' rows).
inline constexpr const char* kTraceMetricColumns[] = {"fisher",          "gap_ratio",       "min_label_margin",
                                                      "probe_margin",    "probe_alignment", "probe_attention_same_class",
                                                      "train_attention_same_class"};

inline CsvTable trace_csv_table(bool enclosures) {
  std::vector<std::string> columns = {"arithmetic", "t"};
  for (const char* m : kTraceMetricColumns) columns.push_back(m);
  if (enclosures)
    for (const char* m : kTraceMetricColumns) columns.push_back(std::string(m) + "_lo"), columns.push_back(std::string(m) + "_hi");
  return CsvTable(std::move(columns));
}

// An enclosure's endpoint as a double on its outer side (a bound that is
// unbounded, or beyond the doubles, is the infinity or the largest double there).
template <RigorousScalar T>
double outward_double(const T& x, bool upper) {
  using Tr = ScalarTraits<T>;
  Rational q;
  try {
    q = upper ? Tr::upper(x) : Tr::lower(x);
  } catch (const std::domain_error&) {
    return upper ? HUGE_VAL : -HUGE_VAL;
  }
  const double f = nearest_double(q);
  if (std::isinf(f)) return (f > 0) == upper ? f : std::copysign(DBL_MAX, f);
  const Rational back = rational_from_double(f);
  if (upper ? back < q : back > q) return std::nextafter(f, upper ? HUGE_VAL : -HUGE_VAL);
  return f;
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
  // NAME_lo, NAME_hi of one metric: the enclosure's (an infinite ratio: inf, inf).
  auto bounds = [&](const T* v, bool infinite) {
    if constexpr (RigorousScalar<T>) {
      if (v) return (void)table.number(outward_double(*v, false)).number(outward_double(*v, true));
      if (infinite) return (void)table.number(HUGE_VAL).number(HUGE_VAL);
    }
    table.empty().empty();
  };
  auto ratio_bounds = [&](const Ratio<T>& r) {
    using K = typename Ratio<T>::Kind;
    bounds(r.kind == K::finite ? &r.value : nullptr, r.kind == K::pos_inf);
  };
  auto value_bounds = [&](const std::optional<T>& v) { bounds(v ? &*v : nullptr, false); };
  // An entry's metrics in the order of kTraceMetricColumns: the midpoint columns and
  // the _lo/_hi columns walk the same list.
  auto each_metric = [](const auto& e, auto&& on_ratio, auto&& on_value) {
    on_ratio(e.metrics.fisher);
    on_ratio(e.metrics.gap_ratio);
    on_value(e.metrics.min_label_margin);
    on_value(e.metrics.probe_margin);
    on_value(e.metrics.probe_alignment);
    on_value(e.probe_attention_same_class);
    on_value(e.train_attention_same_class);
  };
  const bool enclosures = table.columns().size() > 2 + std::size(kTraceMetricColumns);
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    table.row().text(arithmetic).integer(static_cast<long long>(t));
    each_metric(e, ratio, value);
    if (enclosures) each_metric(e, ratio_bounds, value_bounds);
  }
}

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
