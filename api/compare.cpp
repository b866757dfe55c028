#include "api/compare.hpp"

#include "api/account.hpp"
#include "api/certify_report.hpp"
#include "api/csv_table.hpp"
#include "api/distribute.hpp"
#include "api/table_outputs.hpp"
#include "gpu/batch_model.hpp"
#include "io/json_numbers.hpp"
#include "io/output_file.hpp"
#include "numerics/baselines.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

namespace iclcert::api {
namespace {

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

// The comparison and its texts; nothing written.
CompareResult run_compare(const CompareRequest& o) {
  std::unique_ptr<gpu::PromptSource> holder;
  const gpu::PromptSource* source = &o.prompts.resolve(holder);
  const Model &a = o.a, &b = o.b;
  const long B = source->size();
  // Dense sizes against the prompts, before any work, with the file named.
  for (const auto& [model, file] : {std::pair{&a, &o.a_name}, std::pair{&b, &o.b_name}}) {
    try {
      (void)gpu::make_batch_model<double>(*model, source->d, source->C);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*file + ": " + e.what() + " (prompts of " + o.prompts_name + ")");
    }
  }
  std::optional<ExportedPredictions> exported = o.exported;
  if (!o.predictions_file.empty()) exported = read_predictions(o.predictions_file, B, source->C);
  const std::string exported_name = o.predictions_file.empty() ? o.exported_name : o.predictions_file;
  gpu::BatchConfig config;
  config.arith = o.arith;
  config.device = o.device;
  config.threads = default_threads(o.threads);
  config.chunk = o.chunk;
  config.validate = o.validate == kValidateAll ? B : std::min(o.validate, B);
  config.progress = is_root() ? o.progress_line : gpu::ProgressMode(false);
  // Under mpiexec: the chunks split across the ranks, folded on rank 0 in prompt order.
  config.distribute = item_split(2);

  CompareResult out;
  const gpu::CompareResult& r = out.run = gpu::compare_models(*source, a, b, config);
  out.notice = r.backend_notice;
  if (!is_root()) {  // rank 0 has the results (and its exit status is every rank's)
    out.root = false;
    return out;
  }
  // --certify: both models' final predictions certified on every prompt.
  std::optional<gpu::CertifyReport>&cert_a = out.certify_a, &cert_b = out.certify_b;
  if (o.certify) {
    const gpu::CertifyConfig cc = gpu::certify_config(config, o.escalate, o.max_prec);
    checkpoint();
    cert_a = gpu::run_certify(*source, a, cc);
    checkpoint();
    cert_b = gpu::run_certify(*source, b, cc);
  }
  checkpoint();
  const std::string arith = gpu::to_string(o.arith);
  Account log;
  long labelled = 0;
  std::array<BaselineScore, 3> baselines{};
  if (o.baselines) baselines = score_baselines(*source, r, labelled);

  log.print("iclcert compare: %ld prompts (d = %d, C = %d, N = %d), %zu layers, %s on %s, %.2f s\n", B, source->d,
            source->C, source->N, a.layers.size(), arith.c_str(), r.device.c_str(), r.seconds);
  log.print("  A = %s\n  B = %s\n", o.a_name.c_str(), o.b_name.c_str());
  // Two tables per depth: accuracy in context (the baselines see the raw prompt,
  // so their columns are the same at every depth), then how far A and B are apart.
  log.print("  accuracy per depth (probe margin > 0), agreement of A and B, and the baselines:\n");
  log.print("  %4s %8s %8s %8s", "t", "acc_A", "acc_B", "agree");
  if (o.baselines) log.print(" %9s %9s %9s", "near_mean", "1-NN", "logistic");
  log.print("\n");
  for (std::size_t t = 0; t < r.layers.size(); ++t) {
    const auto& l = r.layers[t];
    log.print("  %4zu %8.4f %8.4f %8.4f", t, ratio(l.correct_a, l.labelled), ratio(l.correct_b, l.labelled),
              ratio(l.agree, B));
    if (o.baselines)
      for (const auto& s : baselines) log.print(" %9.4f", ratio(s.correct, labelled));
    log.print("\n");
  }
  log.print("  deviation per depth (logit: |centred yA - centred yB|_inf of the probe's label block):\n");
  log.print("  %4s %12s %12s %12s %12s\n", "t", "max_logit", "mean_logit", "mean_rel", "max_feature");
  Json layers = Json::array();
  // --csv: the two per-depth tables as one, columns named as in the JSON's layers
  // (a baseline's accuracy, the same at every depth, as accuracy_NAME).
  std::vector<std::string> csv_columns = {"t", "accuracy_a", "accuracy_b", "agreement", "agree"};
  if (o.baselines)
    for (const Baseline b : kBaselines) csv_columns.push_back(std::string("accuracy_") + baseline_name(b));
  for (const char* c : {"max_logit_deviation", "mean_logit_deviation", "max_relative_logit_deviation",
                        "mean_relative_logit_deviation", "max_feature_deviation"})
    csv_columns.push_back(c);
  CsvTable csv(std::move(csv_columns));
  for (std::size_t t = 0; t < r.layers.size(); ++t) {
    const auto& l = r.layers[t];
    const double mean_dev = B ? l.sum_logit_dev / B : 0, mean_rel = l.rel_count ? l.sum_rel_logit_dev / l.rel_count : 0;
    log.print("  %4zu %12.4g %12.4g %12.4g %12.4g\n", t, l.max_logit_dev, mean_dev, mean_rel, l.max_feature_dev);
    csv.row().integer(static_cast<long long>(t));
    l.labelled ? csv.number(ratio(l.correct_a, l.labelled)).number(ratio(l.correct_b, l.labelled)) : csv.empty().empty();
    csv.number(ratio(l.agree, B)).integer(l.agree);
    if (o.baselines)
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
  if (o.baselines) {
    log.print("  baselines (from the N labelled points of each prompt) and their agreement with A and B:\n");
    log.print("  %-22s %8s %10s %10s\n", "", "accuracy", "agree_A", "agree_B");
    for (std::size_t k = 0; k < kBaselines.size(); ++k) {
      const auto& s = baselines[k];
      log.print("  %-22s %8.4f %10.4f %10.4f\n", baseline_name(kBaselines[k]), ratio(s.correct, labelled),
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
    log.print("  exported predictions %s%s%s: A agrees on %.4f, B on %.4f", exported_name.c_str(),
              exported->arithmetic.empty() ? "" : " (", exported->arithmetic.empty() ? "" : (exported->arithmetic + ")").c_str(),
              ratio(agree_a, B), ratio(agree_b, B));
    if (!exported->logits.empty()) log.print("; largest centred logit deviation from A %.3g", logit_dev);
    log.print("\n");
    if (ratio(agree_a, B) < o.min_prediction_agreement) {
      prediction_mismatch = true;
      log.print("  A agrees with the exported predictions on %.4f, below --min-prediction-agreement %.4g: the "
                "model file does not reproduce the trainer's model. Usual causes: the trainer lets the probe be a "
                "key and the model file does not say \"probe_is_key\": true (or the reverse); attention with "
                "biases (iclcert's layer has none: export nn.MultiheadAttention(..., bias=False)); another "
                "probe_label_init; the predictions in another order than the prompt file\n",
                ratio(agree_a, B), o.min_prediction_agreement);
    }
    exported_json = {{"file", exported_name},
                     {"agreement_a", fraction_json(agree_a, B)},
                     {"agreement_b", fraction_json(agree_b, B)},
                     {"min_prediction_agreement", statistic_json(o.min_prediction_agreement)},
                     {"max_logit_deviation_a", exported->logits.empty() ? Json(nullptr) : statistic_json(logit_dev)}};
  }
  if (!r.certified.empty()) {
    const auto& c = r.certified.back();
    log.print("  certified (Arb, 256 bits) on the first %ld prompts, %.2f s: at depth %zu both predictions "
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
    log.print("  certified final predictions (float64 intervals, then Arb up to %ld bits%s):\n", o.max_prec,
              !o.escalate ? ", not used: --no-escalate" : "");
    print_certify_summary("A: ", *cert_a, log, arith);
    print_certify_summary("B: ", *cert_b, log, arith);
    log.print("  both certified on %ld prompts: equal on %ld, different on %ld\n", agree + disagree, agree, disagree);
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
    log.print("  the %s state overflowed (inf or NaN in the probe's final logits) on %ld prompts of A and %ld of B: "
              "their predictions are undefined and agree with none. %siclcert run --arith interval:BITS is sound\n",
              arith.c_str(), r.undefined_a, r.undefined_b, o.arith == gpu::BatchArith::float32 ? "Use --arith float64, or " : "");
  {
    Json json = {{"format", 1},
                {"command", "compare"},
                {"model", o.a_name},
                {"against", o.b_name},
                {"prompt_file", o.prompts_name},
                {"arithmetic", arith},
                {"device", r.device},
                {"prompts", B},
                {"d", source->d},
                {"C", source->C},
                {"N", source->N},
                {"agreement", fraction_json(final_agree, B)},
                {"undefined_predictions", {{"a", r.undefined_a}, {"b", r.undefined_b}}},
                {"layers", std::move(layers)},
                {"baselines", !o.baselines ? Json(nullptr) : std::move(baselines_json)},
                {"exported_predictions", std::move(exported_json)},
                {"certified_prompts", r.certified_prompts},
                {"certified", certified_detail_json(r.certified_detail)},
                {"certify", std::move(certify_out)},
                {"seconds", statistic_json(r.seconds)},
                {"certified_seconds", statistic_json(r.certified_seconds)}};
    out.json_text = json.dump(1) + "\n";
  }
  out.csv_text = csv.text();
  out.exit_status = prediction_mismatch || overflowed ? 1 : 0;
  if (o.min_agreement && ratio(final_agree, B) < *o.min_agreement) {
    log.print("  agreement %.4f is below --min-agreement %.4f\n", ratio(final_agree, B), *o.min_agreement);
    out.exit_status = 1;
  }
  out.account = log.text();
  return out;
}

}  // namespace

CompareResult compare(const CompareRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  if (request.validate < kValidateAll) throw std::invalid_argument("validate: expected a count >= 0 or all");
  TableOutputs outputs(request.json_out, request.csv_out);
  CompareResult r = run_compare(request);
  outputs.commit(r.json_text, r.csv_text);
  return r;
}

}  // namespace iclcert::api
