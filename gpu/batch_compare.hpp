// Two models on the same prompts (issue 7: a trained model against the recursion
// extracted from it): both run on the batch path chunk by chunk, every state kept,
// and are compared per depth; the first K prompts are also run in Arb balls at 256
// bits, so that "functionally equivalent" is quantified with certified numbers.
//
// Deviations are measured on what the prediction depends on:
//   logits   the probe's label block with its mean removed (a multiple of 1_C added
//            to it changes no prediction or margin, theory/extraction.md), in the
//            max norm: |(yA - mean yA) - (yB - mean yB)|_inf, and that divided by
//            |yA - mean yA|_inf (prompts where it is 0 are left out of the ratio)
//   features every row's feature block, max |xA - xB| / max(1, max |xA|) per state
#pragma once

#include "gpu/batch_run.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace iclcert::gpu {

struct CompareLayer {
  long labelled = 0, correct_a = 0, correct_b = 0;  // probe margin > 0 at this depth
  long agree = 0;                                   // argmax of the probe's label block equal
  double max_logit_dev = 0, sum_logit_dev = 0;
  double max_rel_logit_dev = 0, sum_rel_logit_dev = 0;
  long rel_count = 0;
  double max_feature_dev = 0;
};

// Per depth over the certified prompts.
struct CertifiedLayer {
  long both_certified = 0, certified_agree = 0, certified_disagree = 0;
  long float_flips_a = 0, float_flips_b = 0;  // batch-path prediction differs from the certified one
  // Enclosure of max over prompts of the centred-logit deviation (decimal endpoints,
  // outward): the interval max of the prompts' enclosures, taken in Arb at 256 bits
  // (never on rounded endpoints, which tie where prompts differ by less than an ulp).
  std::string deviation_lo_text = "0", deviation_hi_text = "0";
  double deviation_lo = 0, deviation_hi = 0;  // the texts read as doubles, for display
};

// One certified prompt at the last depth: both models' probe logits as enclosures
// (outward decimal endpoints), the certified predictions (-1: not decided) and the
// batch path's float predictions.
struct CertifiedPrompt {
  long index = 0;
  std::vector<std::pair<std::string, std::string>> logits_a, logits_b;
  int certified_a = -1, certified_b = -1, float_a = -1, float_b = -1;
};

struct CompareResult {
  std::vector<CompareLayer> layers;                      // t = 0..L
  std::vector<std::uint16_t> predictions_a, predictions_b;  // at depth L (kUndefinedPrediction: overflowed)
  long undefined_a = 0, undefined_b = 0;                    // of those, undefined: the float state overflowed
  std::vector<double> logits_a;                          // B x C, depth L, model A
  std::vector<CertifiedLayer> certified;                 // t = 0..L, when validate > 0
  std::vector<CertifiedPrompt> certified_detail;         // the K prompts, in order
  long certified_prompts = 0;
  std::string device;
  std::string backend_notice;  // choose_backend's notice, for stderr
  double seconds = 0, certified_seconds = 0;
};

// |(a - mean a) - (b - mean b)|_inf of two label blocks of C entries (in double);
// `scale`, when given, receives |a - mean a|_inf.
template <class T, class U>
double centred_deviation(const T* a, const U* b, int C, double* scale = nullptr) {
  double ma = 0, mb = 0;
  for (int c = 0; c < C; ++c) {
    ma += static_cast<double>(a[c]);
    mb += static_cast<double>(b[c]);
  }
  ma /= C;
  mb /= C;
  double dev = 0, sa = 0;
  for (int c = 0; c < C; ++c) {
    const double ca = static_cast<double>(a[c]) - ma;
    dev = std::max(dev, std::abs(ca - (static_cast<double>(b[c]) - mb)));
    sa = std::max(sa, std::abs(ca));
  }
  if (scale) *scale = sa;
  return dev;
}

// Throws std::invalid_argument when the models' depths differ or a model cannot run
// on these prompts, and InputError for an input number that is not finite in
// config.arith. config.validate is K; config.detail is ignored (states are kept).
CompareResult compare_models(const PromptSource& source, const Model& a, const Model& b, const BatchConfig& config);

}  // namespace iclcert::gpu
