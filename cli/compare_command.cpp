#include "cli/compare_command.hpp"

#include "api/compare.hpp"
#include "api/instance.hpp"
#include "cli/batch_command.hpp"
#include "cli/vocabulary.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <cstdio>
#include <memory>
#include <optional>

namespace iclcert::cli {
namespace {

struct CompareOptions {
  std::string model_file, against_file, prompt_file, predictions_file, arith = "float32", device = "auto", json, csv;
  std::string validate = "0";  // K or all, as in batch
  int threads = 0, chunk = 4096;
  std::optional<double> min_agreement;
  double min_prediction_agreement = 0.99;
  bool progress = false, no_progress = false, no_baselines = false;
  bool certify = false, no_escalate = false;
  long max_prec = 1024;  // as in every command with --max-prec (docs/cli.md)
};

// A fraction for --min-agreement and --min-prediction-agreement: a finite number in
// [0, 1]. CLI::Range lets "nan" through (every comparison with NaN is false).
const CLI::Validator kFraction =
    finite_number_check([](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]", "FRACTION in [0, 1]");

std::vector<std::string> compare_inputs(const CompareOptions& o) {
  return {o.model_file, o.against_file, o.prompt_file, o.predictions_file};
}

int compare(const CompareOptions& o) {
  // --prompt is required; not through CLI11, which would refuse its old spelling.
  if (o.prompt_file.empty()) throw std::invalid_argument("--prompt is required: the prompt or batch file to compare on");
  const long validate = validate_option(o.validate);  // its text, before any work
  Outputs outputs(compare_inputs(o));  // the outputs checked before any work, not after it
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  api::CompareRequest r;
  const auto source = gpu::prompts_from_list(read_prompt_file(o.prompt_file), o.prompt_file);
  r.prompts.source = source.get();
  r.a = read_model_file(o.model_file);
  r.b = read_model_file(o.against_file);
  r.a_name = o.model_file, r.b_name = o.against_file, r.prompts_name = o.prompt_file;
  r.predictions_file = o.predictions_file;
  r.min_prediction_agreement = o.min_prediction_agreement;
  r.min_agreement = o.min_agreement;
  gpu::BatchConfig backend;
  set_batch_backend(o.arith, o.device, backend);
  r.arith = backend.arith, r.device = backend.device;
  r.threads = o.threads, r.chunk = o.chunk;
  r.validate = validate;
  r.baselines = !o.no_baselines;
  r.certify = o.certify, r.escalate = !o.no_escalate, r.max_prec = o.max_prec;
  r.progress_line = gpu::ProgressMode::of_flags(o.progress, o.no_progress);
  const api::CompareResult c = api::compare(r);
  if (!c.root) return 0;  // rank 0 has the results (and its exit status is every rank's)
  std::fputs(c.notice.c_str(), stderr);
  std::fputs(c.account.c_str(), stdout);
  if (!o.json.empty()) outputs.set(o.json, c.json_text);
  if (!o.csv.empty()) outputs.set(o.csv, c.csv_text);
  outputs.commit();
  return c.exit_status;
}

}  // namespace

std::function<int()> register_compare(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare two models (a trained one and its extracted recursion) on a batch of prompts");
  cmd->add_option("--model", o->model_file, "Model A, e.g. the trained model (docs/formats.md)")->required();
  cmd->add_option("--against", o->against_file, "Model B, e.g. the output of iclcert extract --out")->required();
  auto* prompt = cmd->add_option("--prompt", o->prompt_file, "Prompt or batch file (required)");
  add_old_spelling(*cmd, "--prompt-file", o->prompt_file, prompt);
  cmd->add_option("--predictions", o->predictions_file,
                  "Predictions exported by the trainer (docs/formats.md), to check the import against");
  cmd->add_option("--min-prediction-agreement", o->min_prediction_agreement,
                  "With --predictions: exit 1 when model A agrees with the exported predictions on less than this "
                  "fraction of the prompts")
      ->capture_default_str()
      ->check(kFraction);
  cmd->add_option("--validate", o->validate,
                  "K or all: also run the first K prompts in Arb balls at 256 bits (certified) and compare")
      ->capture_default_str();
  cmd->add_option("--arith", o->arith, "float32 or float64")->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--chunk", o->chunk, "Prompts per chunk")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--json", o->json, "Write the comparison as JSON to this file");
  cmd->add_option("--csv", o->csv, "Write the per-depth tables (accuracy, agreement, deviations) as one CSV file");
  cmd->add_option("--min-agreement", o->min_agreement,
                  "Exit 1 when the final prediction agreement of A and B is below this")
      ->check(kFraction);
  cmd->add_flag("--no-baselines", o->no_baselines, "Skip the classical baselines");
  cmd->add_flag("--certify", o->certify,
                "Certify both models' final predictions on every prompt: float64 intervals, then Arb for the undecided");
  cmd->add_flag("--no-escalate", o->no_escalate, "With --certify: leave what float64 intervals cannot decide undecided");
  cmd->add_option("--max-prec", o->max_prec, "With --certify: Arb's precision stops rising here (bits)")
      ->capture_default_str()
      ->check(CLI::Range(64L, 65536L));
  add_progress_flags(*cmd, o->progress, o->no_progress);
  return [o] { return compare(*o); };
}

}  // namespace iclcert::cli
