#include "cli/compare_command.hpp"

#include "cli/batch_command.hpp"
#include "api/certify_report.hpp"
#include "api/csv_table.hpp"
#include "api/distribute.hpp"
#include "api/instance.hpp"
#include "api/predictions_file.hpp"
#include "cli/vocabulary.hpp"

#include "gpu/batch_compare.hpp"
#include "gpu/batch_model.hpp"
#include "io/input_error.hpp"
#include "io/json_numbers.hpp"
#include "io/json_reader.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"
#include "numerics/baselines.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

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

double ratio(long a, long b) { return b > 0 ? static_cast<double>(a) / b : 0.0; }

// Per baseline: correct (of labelled), agreement with A's and B's final predictions.
struct BaselineScore {
  long correct = 0, agree_a = 0, agree_b = 0;
};

std::array<BaselineScore, 3> score_baselines(const gpu::PromptSource& source, const gpu::CompareResult& r,
                                             long& labelled) {
  std::array<BaselineScore, 3> scores{};
  gpu::PromptBlock<double> block;
  labelled = 0;
  for (long first = 0; first < source.size();) {
    const int count = static_cast<int>(std::min<long>(4096, source.size() - first));
    source.fill(first, count, block);
    for (int i = 0; i < count; ++i) {
      const PromptView view{block.d, block.C, block.N, block.X.data() + static_cast<std::size_t>(i) * block.N * block.d,
                            block.labels.data() + static_cast<std::size_t>(i) * block.N,
                            block.probe.data() + static_cast<std::size_t>(i) * block.d};
      labelled += block.probe_label[i] >= 0;
      for (std::size_t b = 0; b < kBaselines.size(); ++b) {
        const int c = classify(kBaselines[b], view);
        scores[b].correct += c == block.probe_label[i];
        scores[b].agree_a += c == r.predictions_a[first + i];
        scores[b].agree_b += c == r.predictions_b[first + i];
      }
    }
    first += count;
  }
  return scores;
}

Json certified_detail_json(const std::vector<gpu::CertifiedPrompt>& detail) {
  auto enclosures = [](const std::vector<std::pair<std::string, std::string>>& v) {
    Json a = Json::array();
    for (const auto& [lo, hi] : v) a.push_back(Json::array({lo, hi}));
    return a;
  };
  // The NAME_float companions (io/json_numbers.hpp): each enclosure's midpoint, for plotting.
  auto midpoints = [](const std::vector<std::pair<std::string, std::string>>& v) {
    Json a = Json::array();
    for (const auto& [lo, hi] : v)
      a.push_back(statistic_json(0.5 * std::strtod(lo.c_str(), nullptr) + 0.5 * std::strtod(hi.c_str(), nullptr)));
    return a;
  };
  auto cls = [](int c) { return c < 0 ? Json(nullptr) : Json(c); };
  Json out = Json::array();
  for (const auto& d : detail)
    out.push_back({{"prompt", d.index},
                   {"logits_a", enclosures(d.logits_a)},
                   {"logits_b", enclosures(d.logits_b)},
                   {"logits_a_float", midpoints(d.logits_a)},
                   {"logits_b_float", midpoints(d.logits_b)},
                   {"certified_prediction_a", cls(d.certified_a)},
                   {"certified_prediction_b", cls(d.certified_b)},
                   {"float_prediction_a", d.float_a},
                   {"float_prediction_b", d.float_b}});
  return out;
}

std::vector<std::string> compare_inputs(const CompareOptions& o) {
  return {o.model_file, o.against_file, o.prompt_file, o.predictions_file};
}

int compare(const CompareOptions& o) {
  // --prompt is required; not through CLI11, which would refuse its old spelling.
  if (o.prompt_file.empty()) throw std::invalid_argument("--prompt is required: the prompt or batch file to compare on");
  validate_count(o.validate, 0);  // its text, before any work
  Outputs outputs(compare_inputs(o));  // the outputs checked before any work, not after it
  outputs.declare("--json", o.json);
  outputs.declare("--csv", o.csv);
  // By default every core; under mpiexec, the cores shared by this machine's ranks.
  const int threads =
      o.threads > 0 ? o.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks_on_node());
  const auto source = gpu::prompts_from_list(read_prompt_file(o.prompt_file), o.prompt_file);
  const Model a = read_model_file(o.model_file), b = read_model_file(o.against_file);
  const long B = source->size();
  // Dense sizes against the prompts, before any work, with the file named.
  for (const auto& [model, file] : {std::pair{&a, &o.model_file}, std::pair{&b, &o.against_file}}) {
    try {
      (void)gpu::make_batch_model<double>(*model, source->d, source->C);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*file + ": " + e.what() + " (prompts of " + o.prompt_file + ")");
    }
  }
  std::optional<ExportedPredictions> exported;
  if (!o.predictions_file.empty()) exported = read_predictions(o.predictions_file, B, source->C);
  gpu::BatchConfig config;
  set_batch_backend(o.arith, o.device, config);
  config.threads = threads;
  config.chunk = o.chunk;
  config.validate = validate_count(o.validate, B);
  config.progress = is_root() ? gpu::ProgressMode::of_flags(o.progress, o.no_progress) : gpu::ProgressMode(false);
  // Under mpiexec: the chunks split across the ranks, folded on rank 0 in prompt order.
  config.distribute = item_split(2);

  const gpu::CompareResult r = gpu::compare_models(*source, a, b, config);
  if (!is_root()) return 0;  // rank 0 has the results (and its exit status is every rank's)
  // --certify: both models' final predictions certified on every prompt.
  std::optional<gpu::CertifyReport> cert_a, cert_b;
  if (o.certify) {
    const gpu::CertifyConfig cc = gpu::certify_config(config, !o.no_escalate, o.max_prec);
    cert_a = gpu::run_certify(*source, a, cc);
    cert_b = gpu::run_certify(*source, b, cc);
  }
  long labelled = 0;
  std::array<BaselineScore, 3> baselines{};
  if (!o.no_baselines) baselines = score_baselines(*source, r, labelled);

  std::printf("iclcert compare: %ld prompts (d = %d, C = %d, N = %d), %zu layers, %s on %s, %.2f s\n", B, source->d,
              source->C, source->N, a.layers.size(), o.arith.c_str(), r.device.c_str(), r.seconds);
  std::printf("  A = %s\n  B = %s\n", o.model_file.c_str(), o.against_file.c_str());
  // Two tables per depth: accuracy in context (the baselines see the raw prompt,
  // so their columns are the same at every depth), then how far A and B are apart.
  std::printf("  accuracy per depth (probe margin > 0), agreement of A and B, and the baselines:\n");
  std::printf("  %4s %8s %8s %8s", "t", "acc_A", "acc_B", "agree");
  if (!o.no_baselines) std::printf(" %9s %9s %9s", "near_mean", "1-NN", "logistic");
  std::printf("\n");
  for (std::size_t t = 0; t < r.layers.size(); ++t) {
    const auto& l = r.layers[t];
    std::printf("  %4zu %8.4f %8.4f %8.4f", t, ratio(l.correct_a, l.labelled), ratio(l.correct_b, l.labelled),
                ratio(l.agree, B));
    if (!o.no_baselines)
      for (const auto& s : baselines) std::printf(" %9.4f", ratio(s.correct, labelled));
    std::printf("\n");
  }
  std::printf("  deviation per depth (logit: |centred yA - centred yB|_inf of the probe's label block):\n");
  std::printf("  %4s %12s %12s %12s %12s\n", "t", "max_logit", "mean_logit", "mean_rel", "max_feature");
  Json layers = Json::array();
  // --csv: the two per-depth tables as one, columns named as in the JSON's layers
  // (a baseline's accuracy, the same at every depth, as accuracy_NAME).
  std::vector<std::string> csv_columns = {"t", "accuracy_a", "accuracy_b", "agreement", "agree"};
  if (!o.no_baselines)
    for (const Baseline b : kBaselines) csv_columns.push_back(std::string("accuracy_") + baseline_name(b));
  for (const char* c : {"max_logit_deviation", "mean_logit_deviation", "max_relative_logit_deviation",
                        "mean_relative_logit_deviation", "max_feature_deviation"})
    csv_columns.push_back(c);
  CsvTable csv(std::move(csv_columns));
  for (std::size_t t = 0; t < r.layers.size(); ++t) {
    const auto& l = r.layers[t];
    const double mean_dev = B ? l.sum_logit_dev / B : 0, mean_rel = l.rel_count ? l.sum_rel_logit_dev / l.rel_count : 0;
    std::printf("  %4zu %12.4g %12.4g %12.4g %12.4g\n", t, l.max_logit_dev, mean_dev, mean_rel, l.max_feature_dev);
    csv.row().integer(static_cast<long long>(t));
    l.labelled ? csv.number(ratio(l.correct_a, l.labelled)).number(ratio(l.correct_b, l.labelled)) : csv.empty().empty();
    csv.number(ratio(l.agree, B)).integer(l.agree);
    if (!o.no_baselines)
      for (const auto& b : baselines) labelled ? csv.number(ratio(b.correct, labelled)) : csv.empty();
    csv.number(l.max_logit_dev).number(mean_dev).number(l.max_rel_logit_dev).number(mean_rel).number(l.max_feature_dev);
    Json layer = {{"t", t},
                  {"accuracy_a", fraction_json(l.correct_a, l.labelled)},
                  {"accuracy_b", fraction_json(l.correct_b, l.labelled)},
                  {"agreement", fraction_json(l.agree, B)},
                  {"agree", l.agree},
                  {"max_logit_deviation", statistic_json(l.max_logit_dev)},
                  {"mean_logit_deviation", statistic_json(mean_dev)},
                  {"max_relative_logit_deviation", statistic_json(l.max_rel_logit_dev)},
                  {"mean_relative_logit_deviation", statistic_json(mean_rel)},
                  {"max_feature_deviation", statistic_json(l.max_feature_dev)}};
    if (!r.certified.empty()) {
      const auto& c = r.certified[t];
      layer["certified"] = {{"prompts", r.certified_prompts},
                            {"both_certified", c.both_certified},
                            {"certified_agree", c.certified_agree},
                            {"certified_disagree", c.certified_disagree},
                            {"float_flips_a", c.float_flips_a},
                            {"float_flips_b", c.float_flips_b},
                            {"max_logit_deviation", Json::array({c.deviation_lo_text, c.deviation_hi_text})},
                            {"max_logit_deviation_float", statistic_json(0.5 * c.deviation_lo + 0.5 * c.deviation_hi)}};
    }
    layers.push_back(std::move(layer));
  }
  const long final_agree = r.layers.back().agree;
  Json baselines_json = Json::array();
  if (!o.no_baselines) {
    std::printf("  baselines (from the N labelled points of each prompt) and their agreement with A and B:\n");
    std::printf("  %-22s %8s %10s %10s\n", "", "accuracy", "agree_A", "agree_B");
    for (std::size_t k = 0; k < kBaselines.size(); ++k) {
      const auto& s = baselines[k];
      std::printf("  %-22s %8.4f %10.4f %10.4f\n", baseline_name(kBaselines[k]), ratio(s.correct, labelled),
                  ratio(s.agree_a, B), ratio(s.agree_b, B));
      baselines_json.push_back({{"name", baseline_name(kBaselines[k])},
                                {"accuracy", fraction_json(s.correct, labelled)},
                                {"agreement_a", fraction_json(s.agree_a, B)},
                                {"agreement_b", fraction_json(s.agree_b, B)}});
    }
  }
  Json exported_json = nullptr;
  bool prediction_mismatch = false;
  if (exported) {
    long agree_a = 0, agree_b = 0;
    double logit_dev = 0;
    for (long k = 0; k < B; ++k) {
      agree_a += exported->classes[k] == r.predictions_a[k];
      agree_b += exported->classes[k] == r.predictions_b[k];
      // Centred, as above: the trainer may carry a different multiple of 1_C.
      if (!exported->logits.empty())
        logit_dev = std::max(logit_dev, gpu::centred_deviation(&r.logits_a[k * source->C],
                                                               &exported->logits[k * source->C], source->C));
    }
    std::printf("  exported predictions %s%s%s: A agrees on %.4f, B on %.4f", o.predictions_file.c_str(),
                exported->arithmetic.empty() ? "" : " (", exported->arithmetic.empty() ? "" : (exported->arithmetic + ")").c_str(),
                ratio(agree_a, B), ratio(agree_b, B));
    if (!exported->logits.empty()) std::printf("; largest centred logit deviation from A %.3g", logit_dev);
    std::printf("\n");
    if (ratio(agree_a, B) < o.min_prediction_agreement) {
      prediction_mismatch = true;
      std::printf("  A agrees with the exported predictions on %.4f, below --min-prediction-agreement %.4g: the "
                  "model file does not reproduce the trainer's model. Usual causes: the trainer lets the probe be a "
                  "key and the model file does not say \"probe_is_key\": true (or the reverse); attention with "
                  "biases (iclcert's layer has none: export nn.MultiheadAttention(..., bias=False)); another "
                  "probe_label_init; the predictions in another order than the prompt file\n",
                  ratio(agree_a, B), o.min_prediction_agreement);
    }
    exported_json = {{"file", o.predictions_file},
                     {"agreement_a", fraction_json(agree_a, B)},
                     {"agreement_b", fraction_json(agree_b, B)},
                     {"min_prediction_agreement", statistic_json(o.min_prediction_agreement)},
                     {"max_logit_deviation_a", exported->logits.empty() ? Json(nullptr) : statistic_json(logit_dev)}};
  }
  if (!r.certified.empty()) {
    const auto& c = r.certified.back();
    std::printf("  certified (Arb, 256 bits) on the first %ld prompts, %.2f s: at depth %zu both predictions "
                "certified on %ld, equal on %ld, different on %ld; max logit deviation %.6g (--json gives its "
                "enclosure); float predictions flipped against certified ones: A %ld, B %ld\n",
                r.certified_prompts, r.certified_seconds, r.layers.size() - 1, c.both_certified, c.certified_agree,
                c.certified_disagree, 0.5 * (c.deviation_lo + c.deviation_hi), c.float_flips_a, c.float_flips_b);
  }
  Json certify_out = nullptr;
  if (cert_a) {
    long agree = 0, disagree = 0;
    for (long k = 0; k < B; ++k) {
      const auto& x = cert_a->prompts[k];
      const auto& y = cert_b->prompts[k];
      if (x.status == gpu::CertStatus::undecided || y.status == gpu::CertStatus::undecided) continue;
      ++(x.prediction == y.prediction ? agree : disagree);
    }
    std::printf("  certified final predictions (float64 intervals, then Arb up to %ld bits%s):\n", o.max_prec,
                o.no_escalate ? ", not used: --no-escalate" : "");
    print_certify_summary("A: ", *cert_a, stdout, o.arith);
    print_certify_summary("B: ", *cert_b, stdout, o.arith);
    std::printf("  both certified on %ld prompts: equal on %ld, different on %ld\n", agree + disagree, agree, disagree);
    certify_out = {{"a", certify_json(*cert_a)},
                   {"b", certify_json(*cert_b)},
                   {"both_certified", agree + disagree},
                   {"certified_agree", agree},
                   {"certified_disagree", disagree}};
  }
  // A float state that overflowed has no prediction: its prompts agree with nothing,
  // and the comparison is a failed check.
  const bool overflowed = r.undefined_a > 0 || r.undefined_b > 0;
  if (overflowed)
    std::printf("  the %s state overflowed (inf or NaN in the probe's final logits) on %ld prompts of A and %ld of B: "
                "their predictions are undefined and agree with none. %siclcert run --arith interval:BITS is sound\n",
                o.arith.c_str(), r.undefined_a, r.undefined_b, o.arith == "float32" ? "Use --arith float64, or " : "");
  if (!o.json.empty()) {
    Json out = {{"format", 1},
                {"command", "compare"},
                {"model", o.model_file},
                {"against", o.against_file},
                {"prompt_file", o.prompt_file},
                {"arithmetic", o.arith},
                {"device", r.device},
                {"prompts", B},
                {"d", source->d},
                {"C", source->C},
                {"N", source->N},
                {"agreement", fraction_json(final_agree, B)},
                {"undefined_predictions", {{"a", r.undefined_a}, {"b", r.undefined_b}}},
                {"layers", std::move(layers)},
                {"baselines", o.no_baselines ? Json(nullptr) : std::move(baselines_json)},
                {"exported_predictions", std::move(exported_json)},
                {"certified_prompts", r.certified_prompts},
                {"certified", certified_detail_json(r.certified_detail)},
                {"certify", std::move(certify_out)},
                {"seconds", statistic_json(r.seconds)},
                {"certified_seconds", statistic_json(r.certified_seconds)}};
    outputs.set(o.json, out.dump(1) + "\n");
  }
  if (!o.csv.empty()) outputs.set(o.csv, csv.text());
  outputs.commit();
  if (o.min_agreement && ratio(final_agree, B) < *o.min_agreement) {
    std::printf("  agreement %.4f is below --min-agreement %.4f\n", ratio(final_agree, B), *o.min_agreement);
    return 1;
  }
  return prediction_mismatch || overflowed ? 1 : 0;
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
