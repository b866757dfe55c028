// The escalation tier of certified batch runs (issue 13): a prompt that the
// float64 interval tier leaves undecided is recomputed with Arb balls
// (run_recursion<ArbBall>, numerics/interval_arb.hpp), raising the working
// precision as `check` does (claims/escalation.hpp: double the bits until decided
// or max_bits), and its final probe margin enclosed.
//
// Trusted: Arb's containment guarantee (as for claim G1 and every certified
// verdict of `check`); the doubles reported are rounded outward from Arb's exact
// endpoints, so [lo, hi] contains the margin too.
#pragma once

#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

namespace iclcert::gpu {

// The final prediction's margin y[c*] - max_{c != c*} y[c], enclosed; c* is the
// class with the largest midpoint. certified: lo > 0 (then c* is the prediction of
// the exact recursion); otherwise undecided at max_bits (an exact tie never
// decides).
struct ArbMargin {
  bool certified = false;
  int prediction = -1;  // c* (whether or not certified)
  double lo = 0, hi = 0;
  long bits = 0;  // the precision that decided, or the last one tried
};

ArbMargin certify_with_arb(const Prompt& prompt, const Model& model, long start_bits, long max_bits);

}  // namespace iclcert::gpu

#include "gpu/batch_run.hpp"

#include <cstdint>
#include <vector>

namespace iclcert::gpu {

// `batch --certify` (issue 13): every prompt's final prediction certified in two
// tiers. The float64 interval tier (gpu/interval_certify.hpp: outward-rounded
// doubles, the kernel's own enclosed exp, the softmax from score differences)
// runs first; a prompt it leaves undecided escalates to Arb (certify_with_arb,
// the bits raised from start_bits up to max_bits) unless escalate is false. A
// prompt whose inputs are not all doubles skips the first tier (it needs its
// inputs exactly). The float prediction of the run's arithmetic is computed too,
// and a certified prediction it disagrees with is a flip.
struct CertifyConfig {
  BatchArith arith = BatchArith::float32;
  int threads = 2;
  int chunk = 4096;
  bool chunk_given = false;  // CUDA: without --chunk the chunk comes from the device's memory (certify_chunk_cuda)
  bool escalate = true;
  long start_bits = 128, max_bits = 4096;
  ProgressMode progress;
  bool use_cuda = false;  // the float predictions and the float64 tier on the GPU; Arb stays on the CPU
};

// A certification's settings from a batch run's (arithmetic of the float
// predictions, threads, chunk, progress), with its escalation; use_cuda stays off.
inline CertifyConfig certify_config(const BatchConfig& batch, bool escalate, long max_bits) {
  CertifyConfig c;
  c.arith = batch.arith;
  c.threads = batch.threads;
  c.chunk = batch.chunk;
  c.chunk_given = batch.chunk_given;
  c.progress = batch.progress;
  c.escalate = escalate;
  c.max_bits = max_bits;
  return c;
}

enum class CertStatus : std::uint8_t {
  certified,    // by the float64 interval tier
  escalated,    // undecided there, certified by Arb
  undecided,    // undecided at float64 and (if escalated) at max_bits
};
const char* to_string(CertStatus s);

struct PromptCertificate {
  CertStatus status = CertStatus::undecided;
  bool tried_arb = false;
  std::int32_t prediction = -1;        // the certified class, or the midpoint's argmax when undecided
  std::int32_t float_prediction = -1;  // the run's float arithmetic; kNoPrediction when its state overflowed
  double lo = 0, hi = 0;               // enclosure of the final margin y[prediction] - max of the others
  long bits = 53;                      // 53: the float64 tier decided; else Arb's precision
  bool float_undefined() const { return float_prediction == kNoPrediction; }
  // An undefined float prediction is counted apart (float_undefined), not as a flip.
  bool flipped() const {
    return status != CertStatus::undecided && !float_undefined() && prediction != float_prediction;
  }
};

struct CertifyReport {
  std::vector<PromptCertificate> prompts;
  long certified = 0, escalated = 0, undecided = 0, flips = 0, arb_runs = 0;
  long float_undefined = 0;                    // float predictions whose state overflowed (inf or NaN)
  long inputs_not_doubles = 0;                 // prompts that skipped the float64 tier
  std::vector<long> decided_float64_by_depth;  // per depth t: margins certified by the float64 tier
  double seconds = 0, interval_seconds = 0, arb_seconds = 0, float_seconds = 0;
};

// Throws InputError, before any work, for an input number that is not finite in
// config.arith (PromptSource::require_finite).
CertifyReport run_certify(const PromptSource& source, const Model& model, const CertifyConfig& config);

// certify_prompt (interval_certify.hpp) as the CPU runs it in run_certify: one
// prompt, compiled for the machine's best vector ISA.
IntervalVerdict certify_on_host(const ModelView<Iv>& m, int N, const double* X, const std::int32_t* labels,
                                const double* probe, int probe_label, Iv* workspace, const IntervalOutputs& out = {});

}  // namespace iclcert::gpu
