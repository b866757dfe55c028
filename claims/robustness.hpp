// Claim R1 (spec section 6): a separation claim (A2's statement, or A1's strict
// one) holds for every coefficient in a box and/or every prompt in an l_inf ball.
//
// Method: branch and bound over the box (claims/paving.hpp). A sub-box is
// evaluated by running the recursion once on enclosures of the whole sub-box (each
// boxed coefficient is the interval [lo, hi] at every reduced layer; each prompt
// coordinate, training points and probe, is widened by [-eps, eps]); where that
// plain evaluation leaves the sub-box undecided, the centred form
// (claims/centred_form.hpp, unless `form` is plain) encloses the states, the
// metrics and their changes again, and the decision is taken on the intersections. If the enclosures
// certify the claim at every layer, the whole sub-box is proved; if they certify
// its failure, every point of it refutes. A sub-box not proved has its midpoint
// (with the prompt at the ball's centre) checked as a point; a certified failure
// there is a refuting point. Undecided sub-boxes are bisected. The ball is enclosed
// whole, never subdivided (its dimension is N d + d). Runs at one precision.
//
// Without `map`, the check stops at the first refuting point (the verdict is then
// known); with `map`, it paves the whole box to the budget, into proved, refuted
// and undecided regions (exact volume fractions). Report: the proved volume
// fraction (exact: a sum of powers of 1/2), the refuting points, and the undecided
// remainder when the budget of sub-boxes runs out.
// Trusts: as A1/A2 (containment of the interval backend), and for the centred form
// the chain rules of numerics/dual.hpp.
#pragma once

#include "claims/centred_form.hpp"
#include "claims/paving.hpp"
#include "claims/robustness_box.hpp"
#include "claims/separation.hpp"

#include <optional>

namespace iclcert::claims {

enum class EnclosureForm { plain, centred };

struct RobustnessOptions {
  std::vector<BoxDimension> box;
  std::optional<Rational> ball;  // l_inf radius around the prompt
  SeparationOptions separation;
  int budget = 256;  // sub-boxes evaluated at most
  EnclosureForm form = EnclosureForm::centred;
  bool map = false;  // pave the whole box rather than stop at the first refuting point
  int batch = 0;     // sub-boxes per evaluator call; 0: 64 with `map`, else 1 (no wasted work)
  std::function<void(const PavingProgress&)> progress;  // after each batch
  Paving* paving = nullptr;  // when set, receives the paving (the region list of --map)
};

// The starting state of every sub-box's runs: the prompt, widened by the ball.
template <RigorousScalar T>
State<T> robustness_start(const Prompt& p, const Model& model, const RobustnessOptions& o) {
  using Tr = ScalarTraits<T>;
  State<T> start = initial_state<T>(p, model.probe_label_init);
  if (o.ball) {
    const T widen = Tr::hull(from_rational<T>(-*o.ball), from_rational<T>(*o.ball));
    for (int j = 0; j < start.rows(); ++j)
      for (int k = 0; k < p.d; ++k) start.Z(j, k) += widen;
  }
  return start;
}

// One sub-box, a pure function of its arguments and the working precision (the
// paving's seam, claims/paving.hpp): its verdict as a whole, and the midpoint as a
// refuting point {"coefficients", "sub_box", "failure"} when it fails there.
template <RigorousScalar T>
BoxResult evaluate_sub_box(const Prompt& p, const Model& model, const State<T>& start, const RobustnessOptions& o,
                           const SubBox& b) {
  using Tr = ScalarTraits<T>;
  const BasicModel<T> boxed = substitute<T>(model, o.box, [&](std::size_t k) {
    return Tr::hull(from_rational<T>(b.ranges[k].first), from_rational<T>(b.ranges[k].second));
  });
  const Trace<T> plain = run_recursion_from<T>(p, start, boxed);
  Verdict verdict = assess_separation<T>("R1", plain, o.separation).verdict;
  if (verdict == Verdict::undecided && o.form == EnclosureForm::centred && !o.box.empty()) {
    const CentredDifferences<T> centred(p, model, start, o.box, b, o.separation.metric);
    verdict = assess_separation<T>("R1", centred.tightened(plain), o.separation, [&](int t) { return centred(t); })
                  .verdict;
  }
  BoxResult r;
  r.verdict = verdict;
  if (verdict == Verdict::proved) return r;
  Model mid = model;
  std::vector<Rational> mids;
  for (const auto& [lo, hi] : b.ranges) mids.push_back((lo + hi) / 2);
  mid.layers = substitute<Rational>(model, o.box, [&](std::size_t k) { return mids[k]; }).layers;
  const ClaimReport point = check_separation<T>("R1", p, mid, o.separation);
  if (point.verdict != Verdict::refuted) return r;
  Json at = Json::object(), where = Json::object();
  for (std::size_t k = 0; k < o.box.size(); ++k) {
    at[o.box[k].coefficient] = to_string(mids[k]);
    where[o.box[k].coefficient] = {to_string(b.ranges[k].first), to_string(b.ranges[k].second)};
  }
  r.refuting_point = Json{{"coefficients", at}, {"sub_box", where}, {"failure", point.counterexample}};
  return r;
}

// The serial evaluator: each sub-box of a batch in turn.
template <RigorousScalar T>
BoxEvaluator serial_evaluator(const Prompt& p, const Model& model, const RobustnessOptions& o) {
  return [&p, &model, &o, start = robustness_start<T>(p, model, o)](const std::vector<SubBox>& batch) {
    std::vector<BoxResult> out;
    out.reserve(batch.size());
    for (const SubBox& b : batch) out.push_back(evaluate_sub_box<T>(p, model, start, o, b));
    return out;
  };
}

// The report of a paving (evidence, lines, verdict).
ClaimReport robustness_report(const Model& model, const RobustnessOptions& o, const Paving& paving);

// `evaluate`: the evaluator of the sub-boxes (serial_evaluator<T> when empty; a
// distributed one must return the same results, claims/paving.hpp).
template <RigorousScalar T>
ClaimReport check_robustness(const Prompt& p, const Model& model, const RobustnessOptions& o,
                             BoxEvaluator evaluate = {}) {
  if (o.box.empty() && !o.ball) throw ClaimInputError("R1 needs a --box over coefficients and/or a --ball around the prompt");
  require_distinct_coefficients(o.box);
  if constexpr (ScalarTraits<T>::exact) {
    throw ClaimInputError("R1 encloses whole boxes and needs an interval arithmetic (--arith interval)");
  } else {
    if (!evaluate) evaluate = serial_evaluator<T>(p, model, o);
    std::vector<std::pair<Rational, Rational>> whole;
    for (const auto& d : o.box) whole.push_back({d.lo, d.hi});
    PavingOptions po;
    po.budget = o.budget;
    po.stop_at_first_refutation = !o.map;
    po.batch = o.batch > 0 ? o.batch : (o.map ? 64 : 1);
    const Paving paving = pave(whole, po, evaluate, o.progress);
    if (o.paving) *o.paving = paving;
    return robustness_report(model, o, paving);
  }
}

}  // namespace iclcert::claims
