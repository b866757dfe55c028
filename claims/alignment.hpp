// Claim C1 (spec section 6): expected class alignment E[g] > 0 over the prompt
// distribution, and the accuracy P(a > 0), with one-sided confidence bounds.
//
// Method: draw S prompts from the sampler (prompt k with seed + k, i.i.d. under
// the usual assumption on the generator); for each, enclose the probe alignment g
// and margin a in interval arithmetic. Three one-sided Hoeffding bounds follow,
// each failing with probability <= delta / 3, so that by the union bound all three
// hold together with probability >= 1 - delta (the confidence printed is joint):
//   E[g] >= mean_k lower(g_k) - (b - a) sqrt(ln(3/delta) / (2 S))
//   E[g] <= mean_k upper(g_k) + (b - a) sqrt(ln(3/delta) / (2 S))
//   P(a > 0) >= (certified correct) / S - sqrt(ln(3/delta) / (2 S))
// where [a, b] = [-2B, 2B] is a range that every g provably lies in: for a reduced
// softmax model the attention weights are convex, so the largest label entry grows
// at most by (1 + |alpha'_t|) per layer (the largest |alpha'| of training and probe
// rows), from 1: |yhat_c| <= B = prod_t (1 + |alpha'_t|), and |g| <= 2B. Using lower
// (upper) endpoints only lowers (raises) the mean, so the bounds stay valid; they
// are computed in outward-rounded arithmetic. Accuracy: the indicator of "a
// certainly > 0" (samples whose margin is undecided count as wrong).
// Why Hoeffding: its only assumption besides independence is the range, which is
// certified above; empirical Bernstein would be tighter when g varies little but
// needs the same range and a variance estimate, and is left for later.
// Verdict, statistical (not a certificate): proved when the lower bound on E[g] is
// certainly > 0; refuted when the upper bound is certainly < 0; undecided
// otherwise. A refutation has no single counterexample prompt: its replay re-draws
// the S prompts from the seed and sampler options recorded in the verdict file.
#pragma once

#include "claims/display.hpp"
#include "claims/verdict.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/recursion.hpp"
#include "numerics/sampler.hpp"

#include <functional>

namespace iclcert::claims {

struct AlignmentOptions {
  SamplerOptions sampler;  // sizes, first seed, balance, margin
  int samples = 200;
  Rational delta = Rational(1, 100);  // joint: each of the three bounds gets delta / 3
};

// B = prod_t (1 + max |alpha'_t|); throws ClaimInputError when the model is not
// reduced softmax (no certified range, hence no valid Hoeffding bound).
Rational label_growth_bound(const Model& m);

// sqrt(ln(1/delta) / (2 S)), enclosed (defined for the two interval backends).
template <RigorousScalar T>
T hoeffding_radius(const Rational& delta, int samples);
template <>
ArbBall hoeffding_radius<ArbBall>(const Rational& delta, int samples);
template <>
MpfiInterval hoeffding_radius<MpfiInterval>(const Rational& delta, int samples);

// One sample's part of the bounds: the endpoints of its g, clipped to the
// certified range [-2B, 2B], and whether its margin is certainly > 0. Computed
// apart from the ordered reduction below so that the samples may be computed
// anywhere (under mpiexec, across the ranks) and still be summed in index order,
// with the same roundings as a single process. Sample k has seed sampler.seed + k.
struct AlignmentSample {
  Rational lower, upper;
  enum class Margin { positive, undecided, other } margin = Margin::other;
};

template <RigorousScalar T>
AlignmentSample alignment_sample(const Model& model, const AlignmentOptions& o, const Rational& B, int k) {
  using Tr = ScalarTraits<T>;
  SamplerOptions s = o.sampler;
  s.seed = o.sampler.seed + static_cast<std::uint64_t>(k);
  s.probe_label = true;
  const Prompt p = sample_prompt(s);
  const Trace<T> t = run_recursion<T>(p, model);
  const auto& m = t.entries.back().metrics;
  const Rational lo = Tr::lower(*m.probe_alignment), hi = Tr::upper(*m.probe_alignment);
  AlignmentSample a{lo < -2 * B ? Rational(-2 * B) : lo, hi > 2 * B ? Rational(2 * B) : hi};
  if (Tr::certainly_positive(*m.probe_margin)) a.margin = AlignmentSample::Margin::positive;
  else if (!Tr::certainly_negative(*m.probe_margin) && !Tr::certainly_zero(*m.probe_margin))
    a.margin = AlignmentSample::Margin::undecided;
  return a;
}

// Computes samples 0 .. S - 1 with `one(k)` and hands them to `take` in index
// order. Empty: one after the other on the calling thread; the cli passes one that
// splits them across MPI ranks (in rounds, so that memory stays bounded).
using AlignmentSampling = std::function<void(int samples, const std::function<AlignmentSample(int)>& one,
                                             const std::function<void(const AlignmentSample&)>& take)>;

template <RigorousScalar T>
ClaimReport check_alignment(const Model& model, const AlignmentOptions& o, void (*progress)(int, int) = nullptr,
                            const AlignmentSampling& sampling = {}) {
  using Tr = ScalarTraits<T>;
  const Rational B = label_growth_bound(model);
  const T range = from_rational<T>(4 * B);
  // The reduction, in index order whoever computed the samples.
  T sum_lower = from_int<T>(0), sum_upper = from_int<T>(0);
  int correct = 0, undecided_margin = 0;
  auto take = [&](const AlignmentSample& a) {
    sum_lower += from_rational<T>(a.lower);
    sum_upper += from_rational<T>(a.upper);
    correct += a.margin == AlignmentSample::Margin::positive;
    undecided_margin += a.margin == AlignmentSample::Margin::undecided;
  };
  if (sampling) {
    sampling(o.samples, [&](int k) { return alignment_sample<T>(model, o, B, k); }, take);
  } else {
    for (int k = 0; k < o.samples; ++k) {
      take(alignment_sample<T>(model, o, B, k));
      if (progress) progress(k + 1, o.samples);
    }
  }
  const T S = from_int<T>(o.samples);
  const Rational per_bound = o.delta / 3;  // union bound over the three bounds below
  const T radius = hoeffding_radius<T>(per_bound, o.samples);
  const T g_lower = sum_lower / S - range * radius;
  const T g_upper = sum_upper / S + range * radius;
  const T accuracy_lower = from_int<T>(correct) / S - radius;

  ClaimReport r;
  r.claim = "C1";
  const std::string level = to_string(1 - o.delta);
  r.lines.push_back(std::to_string(o.samples) + " prompts (seeds " + std::to_string(o.sampler.seed) + ".." +
                    std::to_string(o.sampler.seed + o.samples - 1) + "); certified range |g| <= 2B, B = " +
                    to_string(B));
  r.lines.push_back("E[g] >= " + show(g_lower) + " and E[g] <= " + show(g_upper) + " (Hoeffding, delta/3 = " +
                    to_string(per_bound) + " each)");
  r.lines.push_back("accuracy: " + std::to_string(correct) + " of " + std::to_string(o.samples) +
                    " certified correct (" + std::to_string(undecided_margin) +
                    " undecided); P(a > 0) >= " + show(accuracy_lower) + " (Hoeffding, delta/3)");
  r.lines.push_back("these three bounds hold jointly with confidence " + level + " (union bound)");
  r.evidence = {{"samples", o.samples},
                {"first_seed", o.sampler.seed},
                {"delta", to_string(o.delta)},
                {"delta_per_bound", to_string(per_bound)},
                {"joint_confidence", to_string(1 - o.delta)},
                {"inequality", "Hoeffding, range [-2B, 2B]; union bound over the three bounds"},
                {"B", to_string(B)},
                {"mean_alignment_lower_bound", enclosure_json(g_lower)},
                {"mean_alignment_upper_bound", enclosure_json(g_upper)},
                {"certified_correct", correct},
                {"undecided_margins", undecided_margin},
                {"accuracy_lower_bound", enclosure_json(accuracy_lower)}};
  if (Tr::certainly_positive(g_lower)) r.verdict = Verdict::proved;
  else if (Tr::certainly_negative(g_upper)) r.verdict = Verdict::refuted;
  else r.verdict = Verdict::undecided;
  r.lines.push_back(std::string("the verdict is statistical, not a certificate: it holds with probability >= ") +
                    level + " over the draw of the prompts");
  return r;
}

}  // namespace iclcert::claims
