#include "api/validate.hpp"

#include "api/account.hpp"
#include "gpu/batch_backend.hpp"
#include "io/model_io.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace iclcert::api {
namespace {

// The user's run: one class in [0, C) per prompt, and logits (if any) B x C and finite.
void require_user_run(const ValidateRequest& r, long B, int C) {
  if (static_cast<long>(r.predictions.size()) != B)
    throw std::invalid_argument("predictions: one class per prompt (" + std::to_string(B) + " prompts), found " +
                                std::to_string(r.predictions.size()));
  for (std::size_t k = 0; k < r.predictions.size(); ++k)
    if (r.predictions[k] < 0 || r.predictions[k] >= C)
      throw std::invalid_argument("predictions[" + std::to_string(k) + "]: " + std::to_string(r.predictions[k]) +
                                  " is not a class in [0, " + std::to_string(C) + ")");
  if (r.logits.empty()) return;
  if (r.logits.size() != static_cast<std::size_t>(B) * C)
    throw std::invalid_argument("logits: " + std::to_string(B) + " x " + std::to_string(C) +
                                " numbers (one row of C per prompt), found " + std::to_string(r.logits.size()));
  for (std::size_t k = 0; k < r.logits.size(); ++k)
    if (!std::isfinite(r.logits[k]))
      throw std::invalid_argument("logits[" + std::to_string(k / C) + "][" + std::to_string(k % C) + "]: not finite");
}

// Each prompt's probe label, -1 where it has none.
std::vector<int> probe_labels(const gpu::PromptSource& source) {
  std::vector<int> labels;
  labels.reserve(static_cast<std::size_t>(source.size()));
  gpu::PromptBlock<double> block;
  for (long first = 0; first < source.size();) {
    checkpoint();
    const int count = static_cast<int>(std::min<long>(4096, source.size() - first));
    source.fill(first, count, block);
    labels.insert(labels.end(), block.probe_label.begin(), block.probe_label.begin() + count);
    first += count;
  }
  return labels;
}

// The user's margin of class c: logits[c] - max of the others.
double user_margin(const double* logits, int C, int c) {
  double other = -INFINITY;
  for (int k = 0; k < C; ++k)
    if (k != c) other = std::max(other, logits[k]);
  return logits[c] - other;
}

}  // namespace

ValidateResult validate(const ValidateRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  std::unique_ptr<gpu::PromptSource> holder;
  const gpu::PromptSource& source = request.prompts.resolve(holder);
  const long B = source.size();
  require_model_fits(request.model, source.d, source.C, "model", "the prompts");
  require_user_run(request, B, source.C);
  // The certification of `batch --certify`; its own float predictions (float64) are
  // not used: the user's classes take their place.
  gpu::BatchConfig backend;
  backend.arith = gpu::BatchArith::float64;
  backend.threads = default_threads(request.threads);
  backend.chunk = request.chunk;
  backend.progress = request.progress_line;
  ValidateResult out;
  out.certification = gpu::run_certify(source, request.model, gpu::certify_config(backend, request.escalate, request.max_prec));
  const std::vector<int> labels = probe_labels(source);

  ValidateSummary& s = out.summary;
  s.prompts = B;
  out.rows.reserve(static_cast<std::size_t>(B));
  for (long k = 0; k < B; ++k) {
    const gpu::PromptCertificate& c = out.certification.prompts[k];
    ValidateRow row;
    row.prompt = k;
    if (c.status != gpu::CertStatus::undecided) row.certified = c.prediction;
    row.float_class = request.predictions[k];
    row.flip = row.certified && *row.certified != row.float_class;
    row.margin_lo = c.lo, row.margin_hi = c.hi;
    if (!request.logits.empty())
      row.float_margin = user_margin(&request.logits[static_cast<std::size_t>(k) * source.C], source.C, c.prediction);
    if (labels[k] >= 0) row.label = labels[k];
    s.certified += row.certified.has_value();
    s.flips += row.flip;
    if (row.label && row.certified) {
      ++s.labelled;
      s.correct += *row.label == *row.certified;
    }
    out.rows.push_back(row);
  }
  if (s.labelled > 0) s.certified_accuracy = static_cast<double>(s.correct) / s.labelled;
  Account log;
  log.print("iclcert validate: %ld prompts (d = %d, C = %d, N = %d), %zu layers\n", B, source.d, source.C, source.N,
            request.model.layers.size());
  log.print("  certified: %ld of %ld (float64 intervals, then Arb up to %ld bits%s)\n", s.certified, B,
            request.max_prec, request.escalate ? "" : ", not used");
  if (s.certified_accuracy)
    log.print("  certified accuracy %.6f (%ld of %ld labelled, certified prompts)\n", *s.certified_accuracy, s.correct,
              s.labelled);
  log.print("  float predictions that flip against a certified one: %ld\n", s.flips);
  out.account = log.text();
  out.exit_status = s.flips > 0 ? 1 : 0;
  return out;
}

}  // namespace iclcert::api
