#include "cli/batch_command.hpp"

#include "api/certify_report.hpp"
#include "api/csv_table.hpp"
#include "api/distribute.hpp"
#include "api/instance.hpp"
#include "cli/vocabulary.hpp"
#include "gpu/batch_certify.hpp"
#include "gpu/batch_run.hpp"
#include "io/input_error.hpp"
#include "io/json_numbers.hpp"
#include "io/json_reader.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

namespace iclcert::cli {
namespace {


// Bytes one prompt of a chunk may take: its state in float64 twice (input and
// work space), every layer's state when it is validated, and its records.
std::uint64_t bytes_per_prompt(int d, int C, int N, std::size_t layers, bool validating) {
  const std::uint64_t state = static_cast<std::uint64_t>(N + 1) * (d + C) * sizeof(double);
  return state * (2 + (validating ? layers + 1 : 0)) + (layers + 1) * 64;
}

// The chunk size: --chunk as given, refused when its memory is beyond the limit;
// by default 4096 prompts, fewer when they would not fit.
int chunk_size(const BatchOptions& o, std::uint64_t per_prompt) {
  const std::uint64_t cap = limit(Limit::chunk_bytes);
  int chunk = o.chunk;
  if (!o.chunk_given) chunk = static_cast<int>(std::clamp<std::uint64_t>(cap / per_prompt, 1, o.chunk));
  if (chunk * per_prompt > cap)
    throw std::invalid_argument("--chunk " + std::to_string(chunk) + ": about " + std::to_string(chunk * per_prompt) +
                                " bytes for a chunk of these prompts " + beyond_limit(Limit::chunk_bytes, "bytes") +
                                "; give a smaller --chunk");
  return chunk;
}

Json stats_json(const gpu::MetricStats& s) {
  Json j = {{"finite", s.finite}, {"pos_inf", s.pos_inf}, {"undefined", s.undefined}};
  if (s.finite > 0) {
    j["mean"] = statistic_json(s.sum / s.finite);
    j["min"] = statistic_json(s.min);
    j["max"] = statistic_json(s.max);
  } else {
    j["mean"] = j["min"] = j["max"] = nullptr;
  }
  return j;
}

Json validation_json(const gpu::ValidationReport& v) {
  Json layers = Json::array();
  for (std::size_t t = 0; t < v.layers.size(); ++t) {
    const auto& l = v.layers[t];
    Json hist = Json::object();
    for (std::size_t b = 0; b < l.ulp_histogram.size(); ++b) hist[gpu::kUlpBucketNames[b]] = l.ulp_histogram[b];
    layers.push_back({{"t", t},
                      {"values", l.values},
                      {"outside", l.outside},
                      {"outside_ulps", hist},
                      {"max_ulps_outside", statistic_json(l.max_ulps_outside)},
                      {"max_relative_error", statistic_json(l.max_relative_error)},
                      {"max_abs_error", statistic_json(l.max_abs_error)},
                      {"scale", statistic_json(l.scale)},
                      {"stated_bound", statistic_json(l.bound)},
                      {"beyond_bound", l.beyond_bound},
                      {"non_finite", l.non_finite},
                      {"certified_predictions", l.certified},
                      {"flips", l.flips},
                      {"first_flips", l.first_flips}});
  }
  return {{"reference", v.reference},
          {"certified", v.certified_reference},
          {"prompts", v.prompts},
          {"prompts_diverged", v.prompts_diverged},
          {"first_divergence_layer", v.first_divergence < 0 ? Json(nullptr) : Json(v.first_divergence)},
          {"layers", std::move(layers)}};
}

// --csv: one row per depth t, the accuracy and the mean of every metric (empty
// when no value was finite), and with --validate the validation table's columns.
CsvTable batch_csv(const gpu::BatchResult& r) {
  std::vector<std::string> columns = {"t", "accuracy"};
  for (const char* m : gpu::kMetricNames) columns.push_back(std::string("mean_") + m);
  const bool validated = r.validation.has_value();
  if (validated)
    for (const char* c : {"values", "outside", "max_ulps_outside", "max_relative_error", "stated_bound",
                          "beyond_bound", "flips"})
      columns.push_back(c);
  CsvTable csv(std::move(columns));
  const std::size_t depths = std::max(r.layers.size(), validated ? r.validation->layers.size() : 0);
  for (std::size_t t = 0; t < depths; ++t) {
    csv.row().integer(static_cast<long long>(t));
    if (t < r.layers.size()) {
      const auto& l = r.layers[t];
      l.labelled ? csv.number(static_cast<double>(l.correct) / l.labelled) : csv.empty();
      for (const auto& s : l.metrics) s.finite ? csv.number(s.sum / s.finite) : csv.empty();
    } else {  // --final-only: no per-layer statistics
      for (std::size_t k = 0; k <= gpu::kMetricNames.size(); ++k) csv.empty();
    }
    if (!validated) continue;
    if (t < r.validation->layers.size()) {
      const auto& v = r.validation->layers[t];
      csv.integer(v.values).integer(v.outside).number(v.max_ulps_outside).number(v.max_relative_error);
      csv.number(v.bound).integer(v.beyond_bound).integer(v.flips);
    } else {
      for (int k = 0; k < 7; ++k) csv.empty();
    }
  }
  return csv;
}

// null for a prediction that is undefined (its float state overflowed).
std::string predictions_text(const std::vector<std::uint16_t>& p) {
  std::string s = "[";
  s.reserve(p.size() * 3 + 2);
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (k) s += ',';
    s += p[k] == gpu::kUndefinedPrediction ? "null" : std::to_string(p[k]);
  }
  return s + "]";
}

// batch --certify: every prompt's final prediction certified (gpu/batch_certify.hpp).
// Exit 1 when a float prediction flips against a certified one, else 0.
BatchRun batch_certify(const BatchOptions& o, const gpu::PromptSource& source, const Model& model,
                       const Json& source_json, int threads, std::FILE* log) {
  if (o.validate != "0")
    throw std::invalid_argument("--certify and --validate: choose one (--certify certifies every prompt's prediction)");
  gpu::BatchConfig backend;
  set_batch_backend(o.arith, o.device, backend);
  backend.threads = threads;
  backend.chunk = o.chunk;
  backend.progress = o.progress_mode();
  gpu::CertifyConfig config = gpu::certify_config(backend, !o.no_escalate, o.max_prec);
  // The float predictions and the float64 interval tier on a GPU when one is chosen; Arb on the CPU.
  config.use_cuda = gpu::choose_backend(backend, "iclcert batch --certify").first;
  const gpu::CertifyReport r = gpu::run_certify(source, model, config);
  const long B = source.size();
  std::fprintf(log, "iclcert batch --certify: %ld prompts (d = %d, C = %d, N = %d), %zu layers, float predictions in %s\n", B,
               source.d, source.C, source.N, model.layers.size(), o.arith.c_str());
  print_certify_summary("", r, log, o.arith);
  {
    Json out = {{"format", 1},
                {"command", "batch --certify"},
                {"arithmetic", o.arith},
                {"source", source_json},
                {"model", o.model_file.empty() ? "embedded default (examples/default_model.json)" : o.model_file},
                {"prompts", B},
                {"d", source.d},
                {"C", source.C},
                {"N", source.N},
                {"escalation", o.no_escalate ? Json(nullptr) : Json{{"start_bits", config.start_bits}, {"max_bits", config.max_bits}}},
                {"certification", certify_json(r)}};
    return {r.flips > 0 || r.float_undefined > 0 ? 1 : 0, out.dump(1) + "\n", certify_csv(r).text()};
  }
}

int batch(const BatchOptions& o) {
  if (o.prompt_file.empty() == o.sample.empty())
    throw std::invalid_argument("iclcert batch needs exactly one of " + o.prompt_flag + " F and --sample d,C,N");
  Outputs outputs({o.prompt_file, o.model_file});
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  // By default every core; under mpiexec, the cores shared by this machine's ranks.
  const int threads =
      o.threads > 0 ? o.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks_on_node());
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
  require_model_fits(model, source->d, source->C,
                     o.model_file.empty() ? "embedded default (examples/default_model.json)" : o.model_file,
                     o.prompt_file.empty() ? "--sample " + o.sample : "the prompt file " + o.prompt_file);
  // --certify is not split yet: under mpiexec rank 0 runs it alone (its status is every rank's).
  if (o.certify && !is_root()) return 0;
  const BatchRun r = run_batch_options(o, *source, model, source_json, threads, stdout);
  if (!is_root()) return r.status;  // rank 0 has the results and writes them
  if (!o.json.empty()) outputs.set(o.json, r.json_text);
  if (!o.csv.empty()) outputs.set(o.csv, r.csv_text);
  outputs.commit();
  return r.status;
}

}  // namespace

BatchRun run_batch_options(const BatchOptions& o, const gpu::PromptSource& source_ref, const Model& model,
                           const Json& source_json, int threads, std::FILE* log) {
  const gpu::PromptSource* source = &source_ref;
  gpu::BatchConfig config;
  set_batch_backend(o.arith, o.device, config);
  // Before any work and any word on the backend: an input beyond the type's range.
  source->require_finite(config.arith);
  if (o.certify) return batch_certify(o, *source, model, source_json, threads, log);
  config.threads = threads;
  config.validate = validate_count(o.validate, source->size());
  config.chunk = chunk_size(o, bytes_per_prompt(source->d, source->C, source->N, model.layers.size(), config.validate > 0));
  config.chunk_given = o.chunk_given;
  config.detail = o.final_only ? gpu::Detail::final_only : gpu::Detail::per_layer;
  // Under mpiexec: the chunks split across the ranks, folded on rank 0 in prompt order.
  config.distribute = item_split(4);
  config.progress = is_root() ? o.progress_mode() : gpu::ProgressMode(false);

  const gpu::BatchResult r = gpu::run_batch(*source, model, config);

  const long B = source->size();
  const double accuracy = r.labelled > 0 ? static_cast<double>(r.correct) / r.labelled : 0.0;
  std::fprintf(log, "iclcert batch: %ld prompts (d = %d, C = %d, N = %d), %zu layers, %s on %s\n", B, source->d, source->C,
              source->N, model.layers.size(), o.arith.c_str(), r.device.c_str());
  std::fprintf(log, "  accuracy %.6f (%ld of %ld labelled probes with margin > 0)\n", accuracy, r.correct, r.labelled);
  std::fprintf(log, "  %.3f s (%.3f s of it validation), %.0f prompts/s without validation, peak memory %.1f MiB\n",
              r.seconds, r.validation_seconds, B / std::max(1e-9, r.seconds - r.validation_seconds),
              r.peak_rss_kib / 1024.0);
  if (r.undefined > 0)
    std::fprintf(log, "  the %s state overflowed on %ld of %ld prompts (inf or NaN in the probe's final logits; the "
                 "first: prompt %ld): their predictions are undefined (null). %siclcert run --arith interval:BITS "
                 "is sound\n",
                 o.arith.c_str(), r.undefined, B, r.first_undefined,
                 o.arith == "float32" ? "Use --arith float64, or " : "");
  if (r.device_sampled > 0)
    std::fprintf(log, "  %ld prompts sampled on the device (%ld redrawn by the host), chunks of %d\n", r.device_sampled,
                r.device_redrawn, r.chunk);
  if (!r.layers.empty()) {
    std::fprintf(log, "  %4s %10s %12s %12s %12s %12s\n", "t", "accuracy", "mean_fisher", "mean_gap", "mean_margin",
                "mean_att_c");
    for (std::size_t t = 0; t < r.layers.size(); ++t) {
      const auto& l = r.layers[t];
      auto mean = [&](int m) {
        const auto& s = l.metrics[m];
        return s.finite ? s.sum / s.finite : 0.0;
      };
      std::fprintf(log, "  %4zu %10.6f %12.6g %12.6g %12.6g %12.6g\n", t,
                  l.labelled ? static_cast<double>(l.correct) / l.labelled : 0.0, mean(0), mean(1), mean(3), mean(5));
    }
  }
  long beyond = 0;
  if (r.validation) {
    const auto& v = *r.validation;
    std::fprintf(log, "  validation of %ld prompts against %s (%.2f s):\n", v.prompts, v.reference.c_str(),
                r.validation_seconds);
    std::fprintf(log, "  %4s %10s %10s %12s %12s %12s %9s %6s\n", "t", "values", "outside", "max_ulps_out", "max_rel_err",
                "stated_bound", "beyond", "flips");
    for (std::size_t t = 0; t < v.layers.size(); ++t) {
      const auto& l = v.layers[t];
      beyond += l.beyond_bound;
      std::fprintf(log, "  %4zu %10ld %10ld %12.4g %12.4g %12.4g %9ld %6ld\n", t, l.values, l.outside, l.max_ulps_outside,
                  l.max_relative_error, l.bound, l.beyond_bound, l.flips);
    }
    if (v.first_divergence >= 0)
      std::fprintf(log, "  %ld prompts' float predictions flip against the certified one; first at depth %d\n",
                  v.prompts_diverged, v.first_divergence);
    else
      std::fprintf(log, "  no float prediction flips against a certified one\n");
    if (v.non_finite() > 0)
      std::fprintf(log, "  the float arithmetic overflowed: %ld float values are inf or NaN where the true values are "
                  "finite (counted beyond the bound); use %sor run the prompts in iclcert run/check with "
                  "--arith mpfr:BITS or interval:BITS\n",
                  v.non_finite(), o.arith == "float32" ? "a wider type (--arith float64), " : "");
  }

  {
    Json layers = Json::array();
    for (std::size_t t = 0; t < r.layers.size(); ++t) {
      const auto& l = r.layers[t];
      Json metrics = Json::object();
      for (std::size_t m = 0; m < gpu::kMetricNames.size(); ++m) metrics[gpu::kMetricNames[m]] = stats_json(l.metrics[m]);
      layers.push_back({{"t", t},
                        {"accuracy", fraction_json(l.correct, l.labelled)},
                        {"metrics", std::move(metrics)}});
    }
    Json out = {{"format", 1},
                {"command", "batch"},
                {"arithmetic", o.arith},
                {"device", r.device},
                {"source", source_json},
                {"model", o.model_file.empty() ? "embedded default (examples/default_model.json)" : o.model_file},
                {"prompts", B},
                {"d", source->d},
                {"C", source->C},
                {"N", source->N},
                {"predictions", "@PREDICTIONS@"},
                {"undefined_predictions", r.undefined},
                {"accuracy", fraction_json(r.correct, r.labelled)},
                {"labelled", r.labelled},
                {"correct", r.correct},
                {"layers", std::move(layers)},
                {"validation", r.validation ? validation_json(*r.validation) : Json(nullptr)},
                {"seconds", statistic_json(r.seconds)},
                {"validation_seconds", statistic_json(r.validation_seconds)},
                {"peak_memory_kib", r.peak_rss_kib}};
    std::string text = out.dump(1);
    const std::string placeholder = "\"@PREDICTIONS@\"";
    text.replace(text.find(placeholder), placeholder.size(), predictions_text(r.predictions));
    // A value beyond its stated bound, or a float overflow (which counts as beyond, and
    // leaves a prediction undefined), is a failed check.
    const bool overflowed = r.undefined > 0 || (r.validation && r.validation->non_finite() > 0);
    return {beyond > 0 || overflowed ? 1 : 0, text + "\n", batch_csv(r).text()};
  }
}

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
