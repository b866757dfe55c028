#include "cli/extract_command.hpp"

#include "api/extract.hpp"
#include "api/instance.hpp"
#include "cli/vocabulary.hpp"
#include "io/input_error.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

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


// d and C from --sample (or --d/--C), a prompt file, or the dense matrices' size.
std::pair<int, int> sizes(ExtractOptions o, const Model& model) {
  if (!o.sample.empty()) {
    InstanceOptions given;
    given.sample = o.sample;
    const SamplerOptions s = sampler_options(given);  // the format and the limits of every --sample
    o.d = s.d, o.C = s.C;
  }
  const int D = api::dense_matrix_size(model);
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

int extract(const ExtractOptions& o) {
  Outputs outputs({o.model_file, o.prompt_file});
  outputs.declare("--out", o.out);
  outputs.declare("--full-out", o.full_out);
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  const Model model = read_model_file(o.model_file);
  if (model.layers.empty()) throw InputError(o.model_file, "layers", "at least one layer to extract");
  const auto [d, C] = sizes(o, model);
  api::ExtractRequest r;
  r.model = model;
  r.model_name = o.model_file;
  r.d = d, r.C = C;
  r.max_residual = o.max_residual;
  r.out_name = o.out, r.full_out_name = o.full_out;
  const api::ExtractResult e = api::extract(r);
  std::fputs(e.account.c_str(), stdout);
  // Every output is built before any is written, so an error leaves no file behind.
  if (!o.out.empty()) outputs.set(o.out, e.reduced_text);
  if (!o.full_out.empty()) outputs.set(o.full_out, e.full_text);
  if (!o.csv.empty()) outputs.set(o.csv, e.csv_text);
  if (!o.json.empty()) outputs.set(o.json, e.json_text);
  outputs.commit();
  for (const std::string* path : {&o.out, &o.full_out, &o.json, &o.csv})
    if (!path->empty() && *path != "-") std::printf("  written: %s\n", path->c_str());
  if (e.residual_exceeded)
    std::printf("  E3 residual %.3e is not below --max-residual %.3g\n", e.max_residual, *o.max_residual);
  return e.exit_status;
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
