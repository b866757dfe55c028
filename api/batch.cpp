#include "api/batch.hpp"

#include "api/account.hpp"
#include "api/certify_report.hpp"
#include "api/csv_table.hpp"
#include "api/distribute.hpp"
#include "api/table_outputs.hpp"
#include "gpu/batch_backend.hpp"
#include "io/json_numbers.hpp"
#include "io/limits.hpp"
#include "io/output_file.hpp"

#include <algorithm>
#include <thread>

namespace iclcert::api {
namespace {

// Bytes one prompt of a chunk may take: its state in float64 twice (input and
// work space), every layer's state when it is validated, and its records.
std::uint64_t bytes_per_prompt(int d, int C, int N, std::size_t layers, bool validating) {
  const std::uint64_t state = static_cast<std::uint64_t>(N + 1) * (d + C) * sizeof(double);
  return state * (2 + (validating ? layers + 1 : 0)) + (layers + 1) * 64;
}

// The chunk size: --chunk as given, refused when its memory is beyond the limit;
// by default 4096 prompts, fewer when they would not fit.
int chunk_size(const BatchRequest& o, std::uint64_t per_prompt) {
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
BatchResult batch_certify(const BatchRequest& o, const gpu::PromptSource& source, gpu::BatchConfig backend) {
  if (o.validate != 0)
    throw std::invalid_argument("--certify and --validate: choose one (--certify certifies every prompt's prediction)");
  backend.chunk = o.chunk;
  backend.chunk_given = o.chunk_given;
  backend.progress = o.progress_line;
  gpu::CertifyConfig config = gpu::certify_config(backend, o.escalate, o.max_prec);
  // The float predictions and the float64 interval tier on a GPU when one is chosen; Arb on the CPU.
  const gpu::BackendChoice choice = gpu::choose_backend(backend, "iclcert batch --certify");
  config.use_cuda = choice.use_cuda;
  BatchResult out;
  out.notice = choice.notice;
  const gpu::CertifyReport& r = out.certification.emplace(gpu::run_certify(source, o.model, config));
  const long B = source.size();
  const std::string arith = gpu::to_string(o.arith);
  Account log;
  log.print("iclcert batch --certify: %ld prompts (d = %d, C = %d, N = %d), %zu layers, float predictions in %s\n", B,
            source.d, source.C, source.N, o.model.layers.size(), arith.c_str());
  print_certify_summary("", r, log, arith);
  {
    Json json = {{"format", 1},
                {"command", "batch --certify"},
                {"arithmetic", arith},
                {"source", o.source},
                {"model", o.model_name},
                {"prompts", B},
                {"d", source.d},
                {"C", source.C},
                {"N", source.N},
                {"escalation", !o.escalate ? Json(nullptr) : Json{{"start_bits", config.start_bits}, {"max_bits", config.max_bits}}},
                {"certification", certify_json(r)}};
    out.json_text = json.dump(1) + "\n";
  }
  out.csv_text = certify_csv(r).text();
  out.account = log.text();
  out.exit_status = r.flips > 0 || r.float_undefined > 0 ? 1 : 0;
  return out;
}


// The plain run, or with request.validate its first prompts validated (claim G1).
BatchResult batch_run(const BatchRequest& o, const gpu::PromptSource* source, gpu::BatchConfig config) {
  config.validate = o.validate == kValidateAll ? source->size() : std::min(o.validate, source->size());
  config.chunk = chunk_size(o, bytes_per_prompt(source->d, source->C, source->N, o.model.layers.size(), config.validate > 0));
  config.chunk_given = o.chunk_given;
  config.detail = o.final_only ? gpu::Detail::final_only : gpu::Detail::per_layer;
  // Under mpiexec: the chunks split across the ranks, folded on rank 0 in prompt order.
  config.distribute = item_split(4);
  config.progress = is_root() ? o.progress_line : gpu::ProgressMode(false);

  BatchResult out;
  const gpu::BatchResult& r = out.run.emplace(gpu::run_batch(*source, o.model, config));
  out.notice = r.backend_notice;
  const std::string arith = gpu::to_string(o.arith);
  Account log;

  const long B = source->size();
  const double accuracy = r.labelled > 0 ? static_cast<double>(r.correct) / r.labelled : 0.0;
  log.print("iclcert batch: %ld prompts (d = %d, C = %d, N = %d), %zu layers, %s on %s\n", B, source->d, source->C,
            source->N, o.model.layers.size(), arith.c_str(), r.device.c_str());
  log.print("  accuracy %.6f (%ld of %ld labelled probes with margin > 0)\n", accuracy, r.correct, r.labelled);
  log.print("  %.3f s (%.3f s of it validation), %.0f prompts/s without validation, peak memory %.1f MiB\n",
            r.seconds, r.validation_seconds, B / std::max(1e-9, r.seconds - r.validation_seconds),
            r.peak_rss_kib / 1024.0);
  // The CPU kernel's x86-64 level (issue 25): figures are only comparable at one level.
  if (r.device.rfind("cpu", 0) == 0) log.print("  CPU kernel: x86-64 level %s\n", gpu::float_kernel_level());
  if (r.undefined > 0)
    log.print("  the %s state overflowed on %ld of %ld prompts (inf or NaN in the probe's final logits; the "
              "first: prompt %ld): their predictions are undefined (null). %siclcert run --arith interval:BITS "
              "is sound\n",
              arith.c_str(), r.undefined, B, r.first_undefined,
              o.arith == gpu::BatchArith::float32 ? "Use --arith float64, or " : "");
  if (r.device_sampled > 0)
    log.print("  %ld prompts sampled on the device (%ld redrawn by the host), chunks of %d\n", r.device_sampled,
              r.device_redrawn, r.chunk);
  if (!r.layers.empty()) {
    log.print("  %4s %10s %12s %12s %12s %12s\n", "t", "accuracy", "mean_fisher", "mean_gap", "mean_margin",
              "mean_att_c");
    for (std::size_t t = 0; t < r.layers.size(); ++t) {
      const auto& l = r.layers[t];
      auto mean = [&](int m) {
        const auto& s = l.metrics[m];
        return s.finite ? s.sum / s.finite : 0.0;
      };
      log.print("  %4zu %10.6f %12.6g %12.6g %12.6g %12.6g\n", t,
                l.labelled ? static_cast<double>(l.correct) / l.labelled : 0.0, mean(0), mean(1), mean(3), mean(5));
    }
  }
  long beyond = 0;
  if (r.validation) {
    const auto& v = *r.validation;
    log.print("  validation of %ld prompts against %s (%.2f s):\n", v.prompts, v.reference.c_str(),
              r.validation_seconds);
    log.print("  %4s %10s %10s %12s %12s %12s %9s %6s\n", "t", "values", "outside", "max_ulps_out", "max_rel_err",
              "stated_bound", "beyond", "flips");
    for (std::size_t t = 0; t < v.layers.size(); ++t) {
      const auto& l = v.layers[t];
      beyond += l.beyond_bound;
      log.print("  %4zu %10ld %10ld %12.4g %12.4g %12.4g %9ld %6ld\n", t, l.values, l.outside, l.max_ulps_outside,
                l.max_relative_error, l.bound, l.beyond_bound, l.flips);
    }
    if (v.first_divergence >= 0)
      log.print("  %ld prompts' float predictions flip against the certified one; first at depth %d\n",
                v.prompts_diverged, v.first_divergence);
    else
      log.print("  no float prediction flips against a certified one\n");
    if (v.non_finite() > 0)
      log.print("  the float arithmetic overflowed: %ld float values are inf or NaN where the true values are "
                "finite (counted beyond the bound); use %sor run the prompts in iclcert run/check with "
                "--arith mpfr:BITS or interval:BITS\n",
                v.non_finite(), o.arith == gpu::BatchArith::float32 ? "a wider type (--arith float64), " : "");
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
    Json json = {{"format", 1},
                {"command", "batch"},
                {"arithmetic", arith},
                {"device", r.device},
                {"source", o.source},
                {"model", o.model_name},
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
    std::string text = json.dump(1);
    const std::string placeholder = "\"@PREDICTIONS@\"";
    text.replace(text.find(placeholder), placeholder.size(), predictions_text(r.predictions));
    // A value beyond its stated bound, or a float overflow (which counts as beyond, and
    // leaves a prediction undefined), is a failed check.
    const bool overflowed = r.undefined > 0 || (r.validation && r.validation->non_finite() > 0);
    out.exit_status = beyond > 0 || overflowed ? 1 : 0;
    out.json_text = text + "\n";
  }
  out.csv_text = batch_csv(r).text();
  out.account = log.text();
  return out;
}


}  // namespace

const gpu::PromptSource& BatchPrompts::resolve(std::unique_ptr<gpu::PromptSource>& holder) const {
  if (source) return *source;
  holder = gpu::prompts_from_list(list, "prompts");
  return *holder;
}

int default_threads(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks_on_node());
}

BatchResult batch(const BatchRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  if (request.validate < kValidateAll) throw std::invalid_argument("validate: expected a count >= 0 or all");
  TableOutputs outputs(request.json_out, request.csv_out);
  std::unique_ptr<gpu::PromptSource> holder;
  const gpu::PromptSource& source = request.prompts.resolve(holder);
  gpu::BatchConfig config;
  config.arith = request.arith;
  config.device = request.device;
  config.threads = default_threads(request.threads);
  // Before any work and any word on the backend: an input beyond the type's range.
  source.require_finite(config.arith);
  BatchResult r = request.certify ? batch_certify(request, source, config) : batch_run(request, &source, config);
  outputs.commit(r.json_text, r.csv_text);
  return r;
}

}  // namespace iclcert::api
