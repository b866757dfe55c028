#include "cli/extract_command.hpp"

#include "api/csv_table.hpp"
#include "api/instance.hpp"
#include "cli/vocabulary.hpp"
#include "io/json_numbers.hpp"
#include "io/json_reader.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"
#include "numerics/extraction.hpp"
#include "numerics/scalar_rational.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

namespace iclcert::cli {
namespace {

struct ExtractOptions {
  std::string model_file, prompt_file, json, out, full_out, csv;
  std::string sample;  // --sample d,C,N: the prompts' sizes (N unused); else --d, --C (old)
  int d = 0, C = 0;
  std::string prompt_flag = "--prompt", sizes_flag = "--sample";  // the spellings given, for messages
  std::optional<double> max_residual;
};

double root(const Rational& squared) { return std::sqrt(nearest_double(squared)); }


// d and C from --sample (or --d/--C), a prompt file, or the dense matrices' size.
std::pair<int, int> sizes(ExtractOptions o, const Model& model) {
  if (!o.sample.empty()) {
    InstanceOptions given;
    given.sample = o.sample;
    const SamplerOptions s = sampler_options(given);  // the format and the limits of every --sample
    o.d = s.d, o.C = s.C;
  }
  int D = 0;
  for (const auto& layer : model.layers)
    if (const auto* dl = std::get_if<DenseLayer<Rational>>(&layer)) D = static_cast<int>(dl->heads[0].score.rows());
  int d = o.d, C = o.C;
  if (!o.prompt_file.empty()) {
    const Prompt p = read_prompt_file(o.prompt_file).front();
    if ((d && d != p.d) || (C && C != p.C))
      throw std::invalid_argument(o.sizes_flag + " and the prompt file " + o.prompt_file + " disagree on d or C");
    d = p.d;
    C = p.C;
  }
  const bool given = d || C;
  if (!given && model.d > 0) return {model.d, model.C};  // the model file records its split
  if (D > 0) {
    if (d == 0 && C == 0)
      throw std::invalid_argument(o.model_file + ": its dense matrices are " + std::to_string(D) + " x " +
                                  std::to_string(D) + "; give --sample d,C,N or " + o.prompt_flag +
                                  " FILE to split them into features and labels");
    if (d == 0) d = D - C;
    if (C == 0) C = D - d;
    if (d < 1 || C < 2 || d + C != D)
      throw std::invalid_argument(o.model_file + ": dense matrices of size " + std::to_string(D) +
                                  " do not split into d = " + std::to_string(d) + " features and C = " +
                                  std::to_string(C) + " >= 2 classes");
  } else if (d < 1 || C < 2) {
    throw std::invalid_argument("the model has no dense layer to take d and C from: give --sample d,C,N, or " +
                                o.prompt_flag + " FILE");
  }
  if (model.d > 0 && (d != model.d || C != model.C))
    throw InputError(o.model_file, d != model.d ? "d" : "C",
                     "the model is for d = " + std::to_string(model.d) + ", C = " + std::to_string(model.C) + ", but " +
                         (o.prompt_file.empty() ? o.sizes_flag + " gives" : "the prompt file " + o.prompt_file + " has") +
                         " d = " + std::to_string(d) + ", C = " + std::to_string(C));
  return {d, C};
}

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

int extract(const ExtractOptions& o) {
  Outputs outputs({o.model_file, o.prompt_file});
  outputs.declare("--out", o.out);
  outputs.declare("--full-out", o.full_out);
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  const Model model = read_model_file(o.model_file);
  if (model.layers.empty()) throw InputError(o.model_file, "layers", "at least one layer to extract");
  const auto [d, C] = sizes(o, model);
  const ModelExtraction<Rational> e = [&] {
    try {
      return extract_model(model, d, C);
    } catch (const std::invalid_argument& err) {  // a dense layer of another size: name the file
      throw std::invalid_argument(o.model_file + ": " + err.what());
    }
  }();

  std::printf("iclcert extract: %s (%zu layers, d = %d, C = %d, %s kernel%s)\n", o.model_file.c_str(),
              model.layers.size(), d, C, model.kernel == Kernel::softmax ? "softmax" : "linear",
              model.probe_is_key ? ", probe is a key" : "");
  std::printf("  E3: relative residual |W - P(W)|_F / |W|_F of each matrix's projection onto span{M(theta)}\n");
  std::printf("  %5s %4s %7s %11s %11s %10s %10s %10s %10s %9s %9s\n", "layer", "head", "source", "res_score",
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
        std::printf("  %5zu %4zu %7s %11.3e %11.3e %10.5g %10.5g %10.5g %10.5g %9.3g %9.3g\n", l + 1, h,
                    source_name(le.source), rs, rv, nearest_double(r.beta), nearest_double(r.gamma),
                    nearest_double(r.alpha), nearest_double(r.alpha_label), fs, fv);
      else
        std::printf("  %5s %4zu %7s %11.3e %11.3e\n", "", h, "", rs, rv);
    }
    if (le.heads.empty()) {
      csv.row().integer(static_cast<long long>(l + 1)).empty().text(source_name(le.source)).empty().empty();
      csv_row_end(r, fs, fv);
    }
    if (le.heads.empty())
      std::printf("  %5zu %4s %7s %11s %11s %10.5g %10.5g %10.5g %10.5g %9s %9s\n", l + 1, "-", "reduced", "-", "-",
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
  std::printf("  largest E3 residual %.3e; largest fit error of the reduced recursion %.3g\n", worst_residual,
              worst_fit);
  if (!e.layers.empty() && e.layers.front().inert_components_ignored)
    std::printf("  (the fit leaves out kappa th3, th6 and nu th6: under softmax with the probe not a key they do "
                "not change predictions; theory/extraction.md)\n");

  // Every output is built before any is written, so an error leaves no file behind.
  if (!o.out.empty()) outputs.set(o.out, model_to_json(e.reduced).dump(1) + "\n");
  if (!o.full_out.empty()) outputs.set(o.full_out, model_to_json(e.full).dump(1) + "\n");
  if (!o.csv.empty()) outputs.set(o.csv, csv.text());
  if (!o.json.empty()) {
    Json out = {{"format", 1},
                {"command", "extract"},
                {"model", o.model_file},
                {"d", d},
                {"C", C},
                {"kernel", model.kernel == Kernel::softmax ? "softmax" : "linear"},
                {"layers", std::move(layers)},
                {"max_residual", statistic_json(worst_residual)},
                {"max_fit_error", statistic_json(worst_fit)},
                {"reduced_model", o.out.empty() ? Json(nullptr) : Json(o.out)},
                {"full_model", o.full_out.empty() ? Json(nullptr) : Json(o.full_out)}};
    outputs.set(o.json, out.dump(1) + "\n");
  }
  outputs.commit();
  for (const std::string* path : {&o.out, &o.full_out, &o.json, &o.csv})
    if (!path->empty() && *path != "-") std::printf("  written: %s\n", path->c_str());
  if (o.max_residual && !(worst_residual < *o.max_residual)) {
    std::printf("  E3 residual %.3e is not below --max-residual %.3g\n", worst_residual, *o.max_residual);
    return 1;
  }
  return 0;
}

}  // namespace

std::function<int()> register_extract(CLI::App& app) {
  auto o = std::make_shared<ExtractOptions>();
  CLI::App* cmd = app.add_subcommand(
      "extract", "Project a (trained) model's matrices onto the equivariant span (E3) and extract the reduced recursion");
  cmd->add_option("--model", o->model_file, "Model file (docs/formats.md): dense, full or reduced layers")->required();
  auto* prompt = cmd->add_option("--prompt", o->prompt_file, "A prompt or batch file to take d and C from");
  auto* old_prompt = add_old_spelling(*cmd, "--prompt-file", o->prompt_file, prompt);
  auto* sizes = cmd->add_option("--sample", o->sample,
                                "Sizes d,C,N of the prompts the model is for, as --sample elsewhere (dense matrices are "
                                "(d+C) x (d+C); N is not used)");
  auto* old_d = add_old_spelling(*cmd, "--d", o->d, sizes, "--sample d,C,N", CLI::Range(1, 1024));
  auto* old_c = add_old_spelling(*cmd, "--C", o->C, sizes, "--sample d,C,N", CLI::Range(2, 256));
  cmd->add_option("--json", o->json, "Write the projections, residuals and coefficients as JSON");
  cmd->add_option("--csv", o->csv, "Write the printed table as CSV (docs/formats.md), one row per head");
  cmd->add_option("--out", o->out, "Write the extracted reduced model (model.json format)");
  cmd->add_option("--full-out", o->full_out, "Write the projected full-form model (model.json format)");
  cmd->add_option("--max-residual", o->max_residual, "Exit 1 unless every E3 residual is below this")
      ->check(finite_number_check([](double v) { return v > 0; }, "a finite number > 0", "POSITIVE"));
  return [o, old_prompt, old_d, old_c] {
    if (old_prompt->count() > 0) o->prompt_flag = "--prompt-file";  // messages name the options as given
    if (old_d->count() + old_c->count() > 0) o->sizes_flag = "--d/--C";
    return extract(*o);
  };
}

}  // namespace iclcert::cli
