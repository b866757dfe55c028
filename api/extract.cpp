#include "api/extract.hpp"

#include "api/account.hpp"
#include "api/csv_table.hpp"
#include "io/input_error.hpp"
#include "io/json_numbers.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "numerics/scalar_rational.hpp"

#include <algorithm>
#include <cmath>

namespace iclcert::api {
namespace {

double root(const Rational& squared) { return std::sqrt(nearest_double(squared)); }

// Exact numbers are strings; each field NAME of them has a companion NAME_float
// holding the nearest doubles (io/json_numbers.hpp), and the residuals, norms
// and fit errors (square roots of exact numbers, to nearest) are JSON numbers.
Json theta_json(const Theta<Rational>& th) {
  Json a = Json::array();
  for (const auto& v : th) a.push_back(to_string(v));
  return a;
}

Json theta_float_json(const Theta<Rational>& th) {
  Json a = Json::array();
  for (const auto& v : th) a.push_back(statistic_json(nearest_double(v)));
  return a;
}

Json matrix_json(const MatrixExtraction<Rational>& m) {
  return {{"theta", theta_json(m.theta)},
          {"theta_float", theta_float_json(m.theta)},
          {"residual", statistic_json(root(m.residual_squared))},
          {"residual_squared", to_string(m.residual_squared)},
          {"norm", statistic_json(root(m.norm_squared))}};
}

Json coefficients_json(const ReducedCoefficients<Rational>& c) {
  return {{"beta", to_string(c.beta)}, {"gamma", to_string(c.gamma)}, {"alpha", to_string(c.alpha)},
          {"alpha_label", to_string(c.alpha_label)}};
}

Json coefficients_float_json(const ReducedCoefficients<Rational>& c) {
  return {{"beta", statistic_json(nearest_double(c.beta))},
          {"gamma", statistic_json(nearest_double(c.gamma))},
          {"alpha", statistic_json(nearest_double(c.alpha))},
          {"alpha_label", statistic_json(nearest_double(c.alpha_label))}};
}

const char* source_name(LayerExtraction<Rational>::Source s) {
  using S = LayerExtraction<Rational>::Source;
  return s == S::reduced ? "reduced" : s == S::full ? "full" : "dense";
}

// d and C where the request leaves them 0: from the dense matrices' size, or the model's recorded split.
std::pair<int, int> split(const ExtractRequest& o) {
  const int D = dense_matrix_size(o.model);
  int d = o.d, C = o.C;
  if (!d && !C && o.model.d > 0) return {o.model.d, o.model.C};
  if (D > 0) {
    if (d == 0) d = D - C;
    if (C == 0) C = D - d;
  }
  if (d < 1 || C < 2)
    throw std::invalid_argument(o.model_name + ": give d >= 1 and C >= 2 (the model records no split of its matrices)");
  return {d, C};
}

// The extraction and its texts; nothing written.
ExtractResult run_extract(ExtractRequest o) {
  if (o.model.layers.empty()) throw InputError(o.model_name, "layers", "at least one layer to extract");
  std::tie(o.d, o.C) = split(o);
  ExtractResult out;
  const Model& model = o.model;
  const int d = o.d, C = o.C;
  out.d = d, out.C = C;
  const ModelExtraction<Rational>& e = out.extraction = [&] {
    try {
      return extract_model(model, d, C);
    } catch (const std::invalid_argument& err) {  // a dense layer of another size: name the file
      throw std::invalid_argument(o.model_name + ": " + err.what());
    }
  }();
  checkpoint();
  Account log;

  log.print("iclcert extract: %s (%zu layers, d = %d, C = %d, %s kernel%s)\n", o.model_name.c_str(),
            model.layers.size(), d, C, model.kernel == Kernel::softmax ? "softmax" : "linear",
            model.probe_is_key ? ", probe is a key" : "");
  log.print("  E3: relative residual |W - P(W)|_F / |W|_F of each matrix's projection onto span{M(theta)}\n");
  log.print("  %5s %4s %7s %11s %11s %10s %10s %10s %10s %9s %9s\n", "layer", "head", "source", "res_score",
            "res_value", "beta", "gamma", "alpha", "alpha'", "fit_score", "fit_value");
  double worst_residual = 0, worst_fit = 0;
  Json layers = Json::array();
  // --csv: the printed table, one row per head (a reduced layer: one row, head
  // and residuals empty), the layer's coefficients and fit errors on each row.
  CsvTable csv({"layer", "head", "source", "residual_score", "residual_value", "beta", "gamma", "alpha",
                "alpha_label", "fit_error_score", "fit_error_value"});
  auto csv_row_end = [&](const ReducedCoefficients<Rational>& c, double fs, double fv) {
    csv.number(nearest_double(c.beta)).number(nearest_double(c.gamma)).number(nearest_double(c.alpha));
    csv.number(nearest_double(c.alpha_label)).number(fs).number(fv);
  };
  for (std::size_t l = 0; l < e.layers.size(); ++l) {
    const auto& le = e.layers[l];
    const auto& r = le.reduced.train;
    const double fs = root(le.score_fit_squared), fv = root(le.value_fit_squared);
    worst_fit = std::max({worst_fit, fs, fv});
    Json heads = Json::array();
    for (std::size_t h = 0; h < le.heads.size(); ++h) {
      const double rs = root(le.heads[h].score.residual_squared), rv = root(le.heads[h].value.residual_squared);
      worst_residual = std::max({worst_residual, rs, rv});
      heads.push_back({{"head", h}, {"score", matrix_json(le.heads[h].score)}, {"value", matrix_json(le.heads[h].value)}});
      csv.row().integer(static_cast<long long>(l + 1)).integer(static_cast<long long>(h)).text(source_name(le.source));
      csv.number(rs).number(rv);
      csv_row_end(r, fs, fv);
      if (h == 0)
        log.print("  %5zu %4zu %7s %11.3e %11.3e %10.5g %10.5g %10.5g %10.5g %9.3g %9.3g\n", l + 1, h,
                  source_name(le.source), rs, rv, nearest_double(r.beta), nearest_double(r.gamma),
                  nearest_double(r.alpha), nearest_double(r.alpha_label), fs, fv);
      else
        log.print("  %5s %4zu %7s %11.3e %11.3e\n", "", h, "", rs, rv);
    }
    if (le.heads.empty()) {
      csv.row().integer(static_cast<long long>(l + 1)).empty().text(source_name(le.source)).empty().empty();
      csv_row_end(r, fs, fv);
    }
    if (le.heads.empty())
      log.print("  %5zu %4s %7s %11s %11s %10.5g %10.5g %10.5g %10.5g %9s %9s\n", l + 1, "-", "reduced", "-", "-",
                nearest_double(r.beta), nearest_double(r.gamma), nearest_double(r.alpha),
                nearest_double(r.alpha_label), "0", "0");
    Json layer = {{"layer", l + 1},  // layer t maps state t - 1 to state t, as in every command
                  {"source", source_name(le.source)},
                  {"heads", std::move(heads)},
                  {"reduced", coefficients_json(r)},
                  {"reduced_float", coefficients_float_json(r)},
                  {"probe", le.reduced.probe ? coefficients_json(*le.reduced.probe) : Json(nullptr)},
                  {"probe_float", le.reduced.probe ? coefficients_float_json(*le.reduced.probe) : Json(nullptr)},
                  {"fit_error", {{"score", statistic_json(fs)}, {"value", statistic_json(fv)}}},
                  {"fit_error_squared", {{"score", to_string(le.score_fit_squared)}, {"value", to_string(le.value_fit_squared)}}},
                  {"inert_components_ignored", le.inert_components_ignored}};
    layers.push_back(std::move(layer));
  }
  log.print("  largest E3 residual %.3e; largest fit error of the reduced recursion %.3g\n", worst_residual,
            worst_fit);
  if (!e.layers.empty() && e.layers.front().inert_components_ignored)
    log.print("  (the fit leaves out kappa th3, th6 and nu th6: under softmax with the probe not a key they do "
              "not change predictions; theory/extraction.md)\n");

  out.reduced_text = model_to_json(e.reduced).dump(1) + "\n";
  out.full_text = model_to_json(e.full).dump(1) + "\n";
  out.csv_text = csv.text();
  {
    const std::string& reduced_name = o.out_name.empty() ? o.out : o.out_name;
    const std::string& full_name = o.full_out_name.empty() ? o.full_out : o.full_out_name;
    Json json = {{"format", 1},
                {"command", "extract"},
                {"model", o.model_name},
                {"d", d},
                {"C", C},
                {"kernel", model.kernel == Kernel::softmax ? "softmax" : "linear"},
                {"layers", std::move(layers)},
                {"max_residual", statistic_json(worst_residual)},
                {"max_fit_error", statistic_json(worst_fit)},
                {"reduced_model", reduced_name.empty() ? Json(nullptr) : Json(reduced_name)},
                {"full_model", full_name.empty() ? Json(nullptr) : Json(full_name)}};
    out.json_text = json.dump(1) + "\n";
  }
  out.max_residual = worst_residual, out.max_fit_error = worst_fit;
  out.residual_exceeded = o.max_residual && !(worst_residual < *o.max_residual);
  out.exit_status = out.residual_exceeded ? 1 : 0;
  out.account = log.text();
  return out;
}

}  // namespace

int dense_matrix_size(const Model& model) {
  int D = 0;
  for (const auto& layer : model.layers)
    if (const auto* dl = std::get_if<DenseLayer<Rational>>(&layer)) D = static_cast<int>(dl->heads[0].score.rows());
  return D;
}

ExtractResult extract(const ExtractRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  Outputs outputs;
  outputs.declare("out", request.out);
  outputs.declare("full_out", request.full_out);
  outputs.declare("json_out", request.json_out);
  outputs.declare("csv_out", request.csv_out);
  ExtractResult r = run_extract(request);
  checkpoint();
  if (!request.out.empty()) outputs.set(request.out, r.reduced_text);
  if (!request.full_out.empty()) outputs.set(request.full_out, r.full_text);
  if (!request.json_out.empty()) outputs.set(request.json_out, r.json_text);
  if (!request.csv_out.empty()) outputs.set(request.csv_out, r.csv_text);
  outputs.commit();
  return r;
}

}  // namespace iclcert::api
