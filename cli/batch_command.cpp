#include "cli/batch_command.hpp"

#include "cli/certify_report.hpp"
#include "cli/instance.hpp"
#include "gpu/batch_certify.hpp"
#include "gpu/batch_run.hpp"
#include "io/input_error.hpp"
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

struct BatchOptions {
  std::string prompt_file, sample, model_file, arith = "float32", device = "auto", validate = "0", json;
  long prompts = 1;
  std::uint64_t seed = 1;
  bool balanced = false, no_progress = false, final_only = false;
  bool certify = false, no_escalate = false;
  long max_prec = 4096;
  std::string margin = "0";
  int threads = 0, chunk = 4096;
  bool chunk_given = false;
};

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
    j["mean"] = round_trip_decimal(s.sum / s.finite);
    j["min"] = round_trip_decimal(s.min);
    j["max"] = round_trip_decimal(s.max);
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
                      {"max_ulps_outside", round_trip_decimal(l.max_ulps_outside)},
                      {"max_relative_error", round_trip_decimal(l.max_relative_error)},
                      {"max_abs_error", round_trip_decimal(l.max_abs_error)},
                      {"scale", round_trip_decimal(l.scale)},
                      {"stated_bound", round_trip_decimal(l.bound)},
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

std::string predictions_text(const std::vector<std::uint16_t>& p) {
  std::string s = "[";
  s.reserve(p.size() * 3 + 2);
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (k) s += ',';
    s += std::to_string(p[k]);
  }
  return s + "]";
}

long parse_validate(const std::string& text, long total) {
  if (text == "all") return total;
  try {
    std::size_t used = 0;
    const long k = std::stol(text, &used);
    if (used == text.size() && k >= 0) return k;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("--validate " + text + ": expected a count >= 0 or \"all\"");
}

// batch --certify: every prompt's final prediction certified (gpu/batch_certify.hpp).
// Exit 1 when a float prediction flips against a certified one, else 0.
int batch_certify(const BatchOptions& o, const gpu::PromptSource& source, const Model& model, Outputs& outputs,
                  const Json& source_json, int threads) {
  if (o.validate != "0")
    throw std::invalid_argument("--certify and --validate: choose one (--certify certifies every prompt's prediction)");
  gpu::BatchConfig backend;
  set_batch_backend(o.arith, o.device, backend);
  backend.threads = threads;
  backend.chunk = o.chunk;
  backend.progress = !o.no_progress;
  gpu::CertifyConfig config = gpu::certify_config(backend, !o.no_escalate, o.max_prec);
  // The float predictions and the float64 interval tier on a GPU when one is chosen; Arb on the CPU.
  config.use_cuda = gpu::choose_backend(backend, "iclcert batch --certify").first;
  const gpu::CertifyReport r = gpu::run_certify(source, model, config);
  const long B = source.size();
  std::printf("iclcert batch --certify: %ld prompts (d = %d, C = %d, N = %d), %zu layers, float predictions in %s\n", B,
              source.d, source.C, source.N, model.layers.size(), o.arith.c_str());
  print_certify_summary("", r);
  if (!o.json.empty()) {
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
    outputs.set(o.json, out.dump(1) + "\n");
    outputs.commit();
  }
  return r.flips > 0 ? 1 : 0;
}

int batch(const BatchOptions& o) {
  if (o.prompt_file.empty() == o.sample.empty())
    throw std::invalid_argument("iclcert batch needs exactly one of --prompt-file F and --sample d,C,N");
  Outputs outputs({o.prompt_file, o.model_file});
  outputs.declare("--json", o.json);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
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
  if (o.certify) return batch_certify(o, *source, model, outputs, source_json, threads);
  gpu::BatchConfig config;
  set_batch_backend(o.arith, o.device, config);
  config.threads = threads;
  config.validate = parse_validate(o.validate, source->size());
  config.chunk = chunk_size(o, bytes_per_prompt(source->d, source->C, source->N, model.layers.size(), config.validate > 0));
  config.chunk_given = o.chunk_given;
  config.progress = !o.no_progress;
  config.detail = o.final_only ? gpu::Detail::final_only : gpu::Detail::per_layer;

  const gpu::BatchResult r = gpu::run_batch(*source, model, config);

  const long B = source->size();
  const double accuracy = r.labelled > 0 ? static_cast<double>(r.correct) / r.labelled : 0.0;
  std::printf("iclcert batch: %ld prompts (d = %d, C = %d, N = %d), %zu layers, %s on %s\n", B, source->d, source->C,
              source->N, model.layers.size(), o.arith.c_str(), r.device.c_str());
  std::printf("  accuracy %.6f (%ld of %ld labelled probes with margin > 0)\n", accuracy, r.correct, r.labelled);
  std::printf("  %.3f s (%.3f s of it validation), %.0f prompts/s without validation, peak memory %.1f MiB\n",
              r.seconds, r.validation_seconds, B / std::max(1e-9, r.seconds - r.validation_seconds),
              r.peak_rss_kib / 1024.0);
  if (r.device_sampled > 0)
    std::printf("  %ld prompts sampled on the device (%ld redrawn by the host), chunks of %d\n", r.device_sampled,
                r.device_redrawn, r.chunk);
  if (!r.layers.empty()) {
    std::printf("  %4s %10s %12s %12s %12s %12s\n", "t", "accuracy", "mean_fisher", "mean_gap", "mean_margin",
                "mean_att_c");
    for (std::size_t t = 0; t < r.layers.size(); ++t) {
      const auto& l = r.layers[t];
      auto mean = [&](int m) {
        const auto& s = l.metrics[m];
        return s.finite ? s.sum / s.finite : 0.0;
      };
      std::printf("  %4zu %10.6f %12.6g %12.6g %12.6g %12.6g\n", t,
                  l.labelled ? static_cast<double>(l.correct) / l.labelled : 0.0, mean(0), mean(1), mean(3), mean(5));
    }
  }
  long beyond = 0;
  if (r.validation) {
    const auto& v = *r.validation;
    std::printf("  validation of %ld prompts against %s (%.2f s):\n", v.prompts, v.reference.c_str(),
                r.validation_seconds);
    std::printf("  %4s %10s %10s %12s %12s %12s %9s %6s\n", "t", "values", "outside", "max_ulps_out", "max_rel_err",
                "stated_bound", "beyond", "flips");
    for (std::size_t t = 0; t < v.layers.size(); ++t) {
      const auto& l = v.layers[t];
      beyond += l.beyond_bound;
      std::printf("  %4zu %10ld %10ld %12.4g %12.4g %12.4g %9ld %6ld\n", t, l.values, l.outside, l.max_ulps_outside,
                  l.max_relative_error, l.bound, l.beyond_bound, l.flips);
    }
    if (v.first_divergence >= 0)
      std::printf("  %ld prompts' float predictions flip against the certified one; first at depth %d\n",
                  v.prompts_diverged, v.first_divergence);
    else
      std::printf("  no float prediction flips against a certified one\n");
    if (v.non_finite() > 0)
      std::printf("  the float arithmetic overflowed: %ld float values are inf or NaN where the true values are "
                  "finite (counted beyond the bound); use %sor run the prompts in iclcert run/check with "
                  "--arith mpfr:BITS or interval:BITS\n",
                  v.non_finite(), o.arith == "float32" ? "a wider type (--arith float64), " : "");
  }

  if (!o.json.empty()) {
    Json layers = Json::array();
    for (std::size_t t = 0; t < r.layers.size(); ++t) {
      const auto& l = r.layers[t];
      Json metrics = Json::object();
      for (std::size_t m = 0; m < gpu::kMetricNames.size(); ++m) metrics[gpu::kMetricNames[m]] = stats_json(l.metrics[m]);
      layers.push_back({{"t", t},
                        {"accuracy", l.labelled ? Json(round_trip_decimal(static_cast<double>(l.correct) / l.labelled)) : Json(nullptr)},
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
                {"accuracy", r.labelled ? Json(round_trip_decimal(accuracy)) : Json(nullptr)},
                {"labelled", r.labelled},
                {"correct", r.correct},
                {"layers", std::move(layers)},
                {"validation", r.validation ? validation_json(*r.validation) : Json(nullptr)},
                {"seconds", round_trip_decimal(r.seconds)},
                {"validation_seconds", round_trip_decimal(r.validation_seconds)},
                {"peak_memory_kib", r.peak_rss_kib}};
    std::string text = out.dump(1);
    const std::string placeholder = "\"@PREDICTIONS@\"";
    text.replace(text.find(placeholder), placeholder.size(), predictions_text(r.predictions));
    outputs.set(o.json, text + "\n");
    outputs.commit();
  }
  // A value beyond its stated bound, or a float overflow (which counts as beyond), is a failed check.
  return beyond > 0 || (r.validation && r.validation->non_finite() > 0) ? 1 : 0;
}

}  // namespace

std::string round_trip_decimal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
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
  auto* file = cmd->add_option("--prompt-file", o->prompt_file, "Batch file of prompts (docs/formats.md)");
  auto* sample = cmd->add_option("--sample", o->sample, "Sample prompts of sizes d,C,N (prompt k with seed S + k)");
  file->excludes(sample);
  cmd->add_option("--prompts", o->prompts, "Number of sampled prompts")->capture_default_str()->check(
      CLI::Range(1L, 1000000000L));
  cmd->add_option("--seed", o->seed, "Seed of prompt 0")->capture_default_str()->check(seed_check());
  cmd->add_flag("--balanced", o->balanced, "Sample exactly N/C points per class (slow: exact sampler)");
  cmd->add_option("--margin", o->margin, "Reject sampled points closer than this to a boundary (slow: exact sampler)")
      ->capture_default_str();
  cmd->add_option("--model", o->model_file, "Model file (docs/formats.md); default: the embedded example");
  cmd->add_option("--arith", o->arith, "float32 or float64")->capture_default_str();
  cmd->add_option("--device", o->device, "auto (a GPU when there is one), cpu or cuda")->capture_default_str();
  cmd->add_option("--validate", o->validate, "Validate the first K prompts (or all) against Arb enclosures")
      ->capture_default_str();
  cmd->add_option("--json", o->json, "Write the results as JSON to this file (- for standard output)");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option_function<int>(
         "--chunk", [o](int chunk) { o->chunk = chunk, o->chunk_given = true; },
         "Prompts per chunk (memory bound; default 4096 on the CPU, fewer for large prompts; on CUDA from the device's memory)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--no-progress", o->no_progress, "No progress line on stderr");
  cmd->add_flag("--final-only", o->final_only, "Predictions and final margins only: no per-layer statistics");
  cmd->add_flag("--certify", o->certify,
                "Certify every prompt's final prediction: float64 intervals, then Arb for the undecided");
  cmd->add_flag("--no-escalate", o->no_escalate, "With --certify: leave what float64 intervals cannot decide undecided");
  cmd->add_option("--max-prec", o->max_prec, "With --certify: Arb's precision stops rising here (bits)")
      ->capture_default_str()
      ->check(CLI::Range(64L, 65536L));
  return [o] { return batch(*o); };
}

}  // namespace iclcert::cli
