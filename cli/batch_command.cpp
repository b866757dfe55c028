#include "cli/batch_command.hpp"

#include "api/batch.hpp"
#include "api/distribute.hpp"
#include "api/instance.hpp"
#include "cli/vocabulary.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <climits>
#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

constexpr const char* kEmbeddedModel = "embedded default (examples/default_model.json)";

api::BatchRequest batch_request(const BatchOptions& o, const gpu::PromptSource& source, const Model& model,
                                const Json& source_json, int threads) {
  api::BatchRequest r;
  r.prompts.source = &source;
  r.model = model;
  r.source = source_json;
  r.model_name = o.model_file.empty() ? kEmbeddedModel : o.model_file;
  gpu::BatchConfig backend;
  set_batch_backend(o.arith, o.device, backend);
  r.arith = backend.arith;
  r.device = backend.device;
  r.threads = threads;
  r.chunk = o.chunk;
  r.chunk_given = o.chunk_given;
  // With --certify any --validate but 0 is refused by the call (before its text is read).
  r.validate = o.certify ? (o.validate != "0") : validate_option(o.validate);
  r.final_only = o.final_only;
  r.certify = o.certify;
  r.escalate = !o.no_escalate;
  r.max_prec = o.max_prec;
  r.progress_line = o.progress_mode();
  return r;
}

}  // namespace

long validate_option(const std::string& text) {
  return text == "all" ? api::kValidateAll : validate_count(text, LONG_MAX);
}

namespace {

int batch(const BatchOptions& o) {
  if (o.prompt_file.empty() == o.sample.empty())
    throw std::invalid_argument("iclcert batch needs exactly one of " + o.prompt_flag + " F and --sample d,C,N");
  Outputs outputs({o.prompt_file, o.model_file});
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  const int threads = api::default_threads(o.threads);
  std::unique_ptr<gpu::PromptSource> source;
  Json source_json;
  if (!o.prompt_file.empty()) {
    source = gpu::prompts_from_list(read_prompt_file(o.prompt_file), o.prompt_file);
    source_json = {{"prompt_file", o.prompt_file}};
  } else {
    InstanceOptions sample_options;
    sample_options.sample = o.sample;
    sample_options.seed = o.seed;
    sample_options.balanced = o.balanced;
    sample_options.margin = o.margin;
    const SamplerOptions s = sampler_options(sample_options);  // the same checks as every other command
    source = gpu::prompts_from_sampler(s, o.prompts, threads);
    source_json = {{"sample", o.sample}, {"seed", o.seed}, {"balanced", o.balanced}, {"margin", o.margin}};
  }
  const Model model = o.model_file.empty() ? default_model() : read_model_file(o.model_file);
  require_model_fits(model, source->d, source->C, o.model_file.empty() ? kEmbeddedModel : o.model_file,
                     o.prompt_file.empty() ? "--sample " + o.sample : "the prompt file " + o.prompt_file);
  // --certify is not split yet: under mpiexec rank 0 runs it alone (its status is every rank's).
  if (o.certify && !is_root()) return 0;
  const api::BatchResult r = api::batch(batch_request(o, *source, model, source_json, threads));
  std::fputs(r.notice.c_str(), stderr);
  std::fputs(r.account.c_str(), stdout);
  if (!is_root()) return r.exit_status;  // rank 0 has the results and writes them
  if (!o.json.empty()) outputs.set(o.json, r.json_text);
  if (!o.csv.empty()) outputs.set(o.csv, r.csv_text);
  outputs.commit();
  return r.exit_status;
}

}  // namespace

void set_batch_backend(const std::string& arith, const std::string& device, gpu::BatchConfig& config) {
  if (arith == "float32") config.arith = gpu::BatchArith::float32;
  else if (arith == "float64") config.arith = gpu::BatchArith::float64;
  else throw std::invalid_argument("--arith " + arith + ": the batch path runs in float32 or float64");
  if (device == "auto") config.device = gpu::DeviceChoice::automatic;
  else if (device == "cpu") config.device = gpu::DeviceChoice::cpu;
  else if (device == "cuda") config.device = gpu::DeviceChoice::cuda;
  else throw std::invalid_argument("--device " + device + ": expected auto, cpu or cuda");
}

std::function<int()> register_batch(CLI::App& app) {
  auto o = std::make_shared<BatchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "batch", "Run the recursion in float32/float64 over a batch of prompts (CPU or CUDA), validated against enclosures");
  auto* file = cmd->add_option("--prompt", o->prompt_file, "Prompt or batch file (docs/formats.md)");
  auto* sample = cmd->add_option("--sample", o->sample, "Sample prompts of sizes d,C,N (prompt k with seed S + k)");
  file->excludes(sample);
  auto* old_file = add_old_spelling(*cmd, "--prompt-file", o->prompt_file, file);
  auto* count = cmd->add_option("--count", o->prompts, "With --sample: how many prompts")->capture_default_str()->check(
      CLI::Range(1L, 1000000000L));
  add_old_spelling(*cmd, "--prompts", o->prompts, count, "", CLI::Range(1L, 1000000000L));
  cmd->add_option("--seed", o->seed, "Seed of prompt 0")->capture_default_str()->check(seed_check());
  cmd->add_flag("--balanced", o->balanced, "Sample exactly N/C points per class (slow: exact sampler)");
  cmd->add_option("--margin", o->margin, "Reject sampled points closer than this to a boundary (slow: exact sampler)")
      ->capture_default_str();
  cmd->add_option("--model", o->model_file, "Model file (docs/formats.md); default: the embedded example");
  cmd->add_option("--arith", o->arith, "float32 or float64")->capture_default_str();
  cmd->add_option("--device", o->device, "auto (a GPU when there is one), cpu or cuda")->capture_default_str();
  cmd->add_option("--validate", o->validate,
                  "K or all: also run the first K prompts in Arb balls at 256 bits (certified) and compare")
      ->capture_default_str();
  cmd->add_option("--json", o->json, "Write the results as JSON to this file (- for standard output)");
  cmd->add_option("--csv", o->csv, "Write the printed per-depth table (with --validate, its columns too) as CSV");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option_function<int>(
         "--chunk", [o](int chunk) { o->chunk = chunk, o->chunk_given = true; },
         "Prompts per chunk (memory bound; default 4096 on the CPU, fewer for large prompts; on CUDA from the device's memory)")
      ->check(CLI::Range(1, 1 << 20));
  add_progress_flags(*cmd, o->progress, o->no_progress);
  cmd->add_flag("--final-only", o->final_only, "Predictions and final margins only: no per-layer statistics");
  cmd->add_flag("--certify", o->certify,
                "Certify every prompt's final prediction: float64 intervals, then Arb for the undecided");
  cmd->add_flag("--no-escalate", o->no_escalate, "With --certify: leave what float64 intervals cannot decide undecided");
  cmd->add_option("--max-prec", o->max_prec, "With --certify: Arb's precision stops rising here (bits)")
      ->capture_default_str()
      ->check(CLI::Range(64L, 65536L));
  return [o, old_file] {
    if (old_file->count() > 0) o->prompt_flag = "--prompt-file";  // messages name the option as given
    return batch(*o);
  };
}

}  // namespace iclcert::cli
