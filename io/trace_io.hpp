// The trace file of `iclcert run --json` (docs/formats.md): every state and its
// metrics, numbers as strings in the arithmetic's own text form, each metric with
// a NAME_float companion (io/json_numbers.hpp) for readers that plot them.
#pragma once

#include "io/json_numbers.hpp"
#include "io/json_reader.hpp"
#include "numerics/recursion.hpp"

#include <string>

namespace iclcert {

// An enclosure (a non-exact type with endpoints) is ["lo", "hi"], rounded outward;
// everything else is the type's own text form.
template <Scalar T>
Json scalar_json(const T& v) {
  using Tr = ScalarTraits<T>;
  if constexpr (!Tr::exact && requires { Tr::lower_string(v); Tr::upper_string(v); })
    return Json::array({Tr::lower_string(v), Tr::upper_string(v)});
  else
    return Tr::to_string(v);
}

// finite: the value; +inf: "+inf"; undefined or undecidable: null.
template <Scalar T>
Json ratio_json(const Ratio<T>& r) {
  using K = typename Ratio<T>::Kind;
  if (r.kind == K::finite) return scalar_json(r.value);
  if (r.kind == K::pos_inf) return "+inf";
  return nullptr;
}

// The NAME_float companion of scalar_json(v): the nearest double (an enclosure's
// midpoint, to nearest), for reading and plotting; it certifies nothing.
template <Scalar T>
Json scalar_float_json(const T& v) {
  return statistic_json(ScalarTraits<T>::to_double(v));
}

// The companion of ratio_json(r): +inf is "inf", undefined or undecidable null.
template <Scalar T>
Json ratio_float_json(const Ratio<T>& r) {
  using K = typename Ratio<T>::Kind;
  if (r.kind == K::finite) return scalar_float_json(r.value);
  if (r.kind == K::pos_inf) return "inf";
  return nullptr;
}

template <Scalar T>
Json matrix_block_json(const State<T>& s, int first_col, int cols) {
  Json rows = Json::array();
  for (int j = 0; j < s.rows(); ++j) {
    Json row = Json::array();
    for (int k = 0; k < cols; ++k) row.push_back(scalar_json(s.Z(j, first_col + k)));
    rows.push_back(std::move(row));
  }
  return rows;
}

template <Scalar T>
Json trace_to_json(const Trace<T>& trace, const std::string& arithmetic) {
  Json layers = Json::array();
  for (std::size_t t = 0; t < trace.entries.size(); ++t) {
    const auto& e = trace.entries[t];
    Json metrics = Json::object();
    auto ratio = [&](const char* name, const Ratio<T>& r) {
      metrics[name] = ratio_json(r);
      metrics[std::string(name) + "_float"] = ratio_float_json(r);
    };
    auto value = [&](const char* name, const std::optional<T>& v) {
      if (!v) return;
      metrics[name] = scalar_json(*v);
      metrics[std::string(name) + "_float"] = scalar_float_json(*v);
    };
    ratio("fisher", e.metrics.fisher);
    ratio("gap_ratio", e.metrics.gap_ratio);
    value("min_label_margin", e.metrics.min_label_margin);
    value("probe_margin", e.metrics.probe_margin);
    value("probe_alignment", e.metrics.probe_alignment);
    value("probe_attention_same_class", e.probe_attention_same_class);
    value("train_attention_same_class", e.train_attention_same_class);
    layers.push_back({{"t", t},
                      {"X", matrix_block_json(e.state, 0, e.state.d)},
                      {"Y", matrix_block_json(e.state, e.state.d, e.state.C)},
                      {"metrics", std::move(metrics)}});
  }
  return {{"format", 1}, {"arithmetic", arithmetic}, {"layers", std::move(layers)}};
}

}  // namespace iclcert
