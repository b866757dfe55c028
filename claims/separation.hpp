// Claims A1 and A2 (spec section 6; theory/claims.md): class separation grows
// from layer to layer.
//
// Statement checked on one instance: for every transition t -> t+1 in the chosen
// layer range, M^{t+1} > M^t (A1, strict) or M^{t+1} >= M^t (A2), with M the
// Fisher ratio (or, for A2 --metric gap, the gap ratio).
// Method: run the recursion in a rigorous arithmetic and compare the enclosures.
//   holds at a transition:  the enclosures certify it (lower(M^{t+1}) > upper(M^t)
//                           for strict; >= for non-strict), or M^{t+1} = +inf while M^t
//                           is finite;
//   fails (certified):      the enclosures certify the negation (a counterexample);
//   not applicable:         M undefined, or (A1) 0 = within or 0 = between at t;
//   otherwise undecided.
// Trusts: the backend's containment guarantee (Arb, MPFI: outward rounding and
// their exp; rationals: exact), and the core's implementation of the recursion.
#pragma once

#include "claims/display.hpp"
#include "claims/verdict.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/recursion.hpp"

#include <functional>
#include <optional>
#include <string>

namespace iclcert::claims {

enum class SeparationMetric { fisher, gap };

struct LayerRange {
  int first = 0;   // check transitions t -> t+1 for first <= t < last
  int last = -1;   // -1: the model's depth
};

struct SeparationOptions {
  SeparationMetric metric = SeparationMetric::fisher;
  bool strict = false;  // A1: strict; A2: non-strict
  LayerRange layers;
};

// Throws ClaimInputError naming the first violated hypothesis of A1: softmax
// kernel, reduced layers with beta = 0, gamma > 0, alpha > 0, alpha' >= 0 (the probe
// overrides are free: the probe never acts on training rows unless it is a key),
// the probe not a key, and balanced classes.
void require_a1_hypotheses(const Prompt& p, const Model& m);

inline LayerRange resolve(LayerRange r, std::size_t depth) {
  if (r.last < 0 || r.last > static_cast<int>(depth)) r.last = static_cast<int>(depth);
  if (r.first < 0) r.first = 0;
  return r;
}

// Judges every transition of a computed trace (the part shared with the box
// checks of R1, which run the recursion on enclosures of a whole box). The
// counterexample, when there is one, holds the failing layer and values only.
// `difference(t)`, when given, may return another enclosure of M^{t+1} - M^t where
// both are finite (R1's centred form, claims/centred_form.hpp); the decision is
// then taken on its intersection with the trace's after - before.
template <RigorousScalar T>
ClaimReport assess_separation(const std::string& claim, const Trace<T>& trace, const SeparationOptions& o,
                              const std::function<std::optional<T>(int)>& difference = {}) {
  using K = typename Ratio<T>::Kind;
  const LayerRange range = resolve(o.layers, trace.entries.size() - 1);
  const char* name = o.metric == SeparationMetric::fisher ? "F" : "R";
  const char* relation = o.strict ? ">" : ">=";
  auto metric = [&](int t) -> const Ratio<T>& {
    return o.metric == SeparationMetric::fisher ? trace.entries[t].metrics.fisher : trace.entries[t].metrics.gap_ratio;
  };

  ClaimReport r;
  r.claim = claim;
  Json layers = Json::array();
  int held = 0, undecided = 0, not_applicable = 0;
  int first_failure = -1;
  for (int t = range.first; t < range.last; ++t) {
    const Ratio<T>& before = metric(t);
    const Ratio<T>& after = metric(t + 1);
    std::string outcome;
    if (before.kind == K::unknown || after.kind == K::unknown) {
      outcome = "undecided";
    } else if (before.kind == K::undefined || after.kind == K::undefined) {
      outcome = "not applicable";
    } else if (before.kind == K::pos_inf) {
      // +inf -> +inf is not applicable (no within-class spread left); +inf -> finite falls.
      outcome = after.kind == K::pos_inf ? "not applicable" : "fails";
    } else if (after.kind == K::pos_inf) {
      outcome = "holds";
    } else if (o.strict && o.metric == SeparationMetric::fisher && ScalarTraits<T>::certainly_zero(before.value)) {
      outcome = "not applicable";  // A1 assumes 0 < between
    } else if (o.strict && o.metric == SeparationMetric::fisher && !ScalarTraits<T>::certainly_positive(before.value)) {
      outcome = "undecided";
    } else {
      T change = after.value - before.value;
      if (difference)
        if (const std::optional<T> tighter = difference(t)) change = ScalarTraits<T>::intersect(change, *tighter);
      const bool holds = o.strict ? ScalarTraits<T>::certainly_positive(change) : certainly_nonnegative(change);
      const bool fails = o.strict ? certainly_nonpositive(change) : ScalarTraits<T>::certainly_negative(change);
      outcome = holds ? "holds" : (fails ? "fails" : "undecided");
    }
    held += outcome == "holds";
    undecided += outcome == "undecided";
    not_applicable += outcome == "not applicable";
    if (outcome == "fails" && first_failure < 0) first_failure = t + 1;
    r.lines.push_back("layer " + std::to_string(t + 1) + ": " + name + " = " + show(after) + " " +
                      (outcome == "holds" ? relation : (outcome == "fails" ? "fails " + std::string(relation) : "?")) +
                      " " + name + "_prev = " + show(before) + "  (" + outcome + ")");
    layers.push_back({{"layer", t + 1}, {"before", enclosure_json(before)}, {"after", enclosure_json(after)},
                      {"outcome", outcome}});
  }
  r.evidence["metric"] = o.metric == SeparationMetric::fisher ? "fisher" : "gap";
  r.evidence["relation"] = relation;
  r.evidence["layers"] = layers;
  if (first_failure > 0) {
    r.verdict = Verdict::refuted;
    r.counterexample = {{"layer", first_failure},
                        {"before", enclosure_json(metric(first_failure - 1))},
                        {"after", enclosure_json(metric(first_failure))}};
  } else if (undecided > 0) {
    r.verdict = Verdict::undecided;
    r.more_precision_may_help = true;
  } else if (held == 0) {
    r.verdict = Verdict::undecided;
    r.lines.push_back("no transition in the range where the claim applies (" + std::to_string(not_applicable) +
                      " not applicable)");
  } else {
    r.verdict = Verdict::proved;
  }
  return r;
}

template <RigorousScalar T>
ClaimReport check_separation(const std::string& claim, const Prompt& p, const Model& model,
                             const SeparationOptions& o) {
  ClaimReport r = assess_separation<T>(claim, run_recursion<T>(p, model), o);
  if (r.verdict == Verdict::refuted) {
    Json where = r.counterexample;
    // Json{...}, not a bare {...}: clang 14 does not destroy the by-value operand of
    // operator= built from a braced list, leaking the old value (LeakSanitizer).
    r.counterexample = Json{{"prompt", prompt_to_json(p)}, {"model", model_to_json(model)}};
    r.counterexample.update(where);
  }
  return r;
}

}  // namespace iclcert::claims
