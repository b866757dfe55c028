// Claim R1 (spec section 6): a separation claim (A2's statement, or A1's strict
// one) holds for every coefficient in a box and/or every prompt in an l_inf ball.
//
// Method: branch and bound over the box (claims/paving.hpp). A sub-box is
// evaluated by running the recursion once on enclosures of the whole sub-box (each
// boxed coefficient is the interval [lo, hi] at every reduced layer; each prompt
// coordinate, training points and probe, is widened by [-eps, eps]); where that
// plain evaluation leaves the sub-box undecided, the affine or second-order Taylor
// form (numerics/affine.hpp, with `form` affine or taylor2) and then the centred form
// (claims/centred_form.hpp, unless `form` is plain) enclose the states, the
// metrics and their changes D_t = M^{t+1} - M^t (each one quantity) again, and
// where a D_t is still undecided, the monotonicity test encloses it from the faces
// of the sub-box where the signs of its derivatives put its extremes. The decision
// is taken on the intersections. If the enclosures
// certify the claim at every layer, the whole sub-box is proved; if they certify
// its failure, every point of it refutes. A sub-box not proved has its midpoint
// (with the prompt at the ball's centre) checked as a point, unless the centred
// run certifies the claim there; a certified failure
// there is a refuting point. Undecided sub-boxes are bisected. The ball is enclosed
// whole, never subdivided (its dimension is N d + d). Runs at one precision.
//
// Without `map`, the check stops at the first refuting point (the verdict is then
// known); with `map`, it paves the whole box to the budget, into proved, refuted
// and undecided regions (exact volume fractions). Report: the proved volume
// fraction (exact: a sum of powers of 1/2), the refuting points, and the undecided
// remainder when the budget of sub-boxes runs out.
// Trusts: as A1/A2 (containment of the interval backend), for the centred form the
// chain rules of numerics/dual.hpp, for the Taylor forms the remainders of
// numerics/affine.hpp (theory/affine_forms.md).
#pragma once

#include "claims/centred_form.hpp"
#include "claims/enclosure_form.hpp"
#include "claims/paving.hpp"
#include "claims/robustness_box.hpp"
#include "claims/separation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace iclcert::claims {

// The enclosure forms: claims/enclosure_form.hpp. parse_form takes one of
// kEnclosureFormNames and throws ClaimInputError naming --form otherwise.
EnclosureForm parse_form(const std::string& name);
const char* form_name(EnclosureForm form);

struct RobustnessOptions {
  std::vector<BoxDimension> box;
  std::optional<Rational> ball;  // l_inf radius around the prompt
  SeparationOptions separation;
  int budget = 256;  // sub-boxes evaluated at most
  EnclosureForm form = EnclosureForm::centred;
  bool map = false;  // pave the whole box rather than stop at the first refuting point
  int batch = 0;     // sub-boxes per evaluator call; 0: 64 with `map` (8 with a time limit), else 1 (no wasted work)
  bool monotone = true;        // the centred form's monotonicity test (claims/centred_form.hpp)
  bool breadth_first = false;  // the paving's order before issue 26 (claims/paving.hpp), for comparisons
  double time_limit = 0;       // seconds, 0 for none: stop paving, the rest undecided (claims/paving.hpp)
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

// The paving's hints (claims/paving.hpp) from an evaluation that left the sub-box
// undecided. `layers`: the assessment's outcome per transition of the range,
// `changes[t]`: the enclosure of D_t it decided on (where M was finite),
// `contributions[t][k]`: the width coordinate k contributes to D_t's enclosure over
// the sub-box (from the affine form's coefficient or the centred run's gradient).
//   distance: the sum, over the transitions not yet certified, of the fraction of
//     D_t's enclosure on the failing side of 0 (1 where M is not finite), or, when
//     smaller, the number of transitions times the least fraction on the holding
//     side (close to a refutation). A heuristic for the order only.
//   split: for the transition farthest from holding among those with
//     contributions, the coordinate that contributes most.
template <RigorousScalar T>
void paving_hints(const Json& layers, int first, const std::vector<std::optional<T>>& changes,
                  const std::vector<std::vector<double>>& contributions, BoxResult& r) {
  using Tr = ScalarTraits<T>;
  double prove = 0, refute = 1, worst = -1;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i]["outcome"] != "undecided") continue;
    const auto t = static_cast<std::size_t>(first) + i;
    const std::optional<T>& c = changes[t];
    const double w = c ? Tr::width(*c) : std::numeric_limits<double>::infinity();
    double below = 1;  // the fraction of the enclosure below 0
    if (w > 0 && w < std::numeric_limits<double>::infinity()) {
      const double lo = Tr::to_double(*c) - w / 2;
      below = std::clamp(-lo / w, 0.0, 1.0);
      refute = std::min(refute, 1 - below);
    }
    prove += below;
    if (contributions[t].empty() || below <= worst) continue;
    worst = below;
    double most = 0;
    for (std::size_t k = 0; k < contributions[t].size(); ++k) {
      double contribution = contributions[t][k];
      if (std::isnan(contribution)) contribution = std::numeric_limits<double>::infinity();
      if (contribution > most) most = contribution, r.split = static_cast<int>(k);
    }
  }
  r.distance = std::min(prove, refute * static_cast<double>(layers.size()));
}

// The width each coordinate contributes to a quantity over the sub-box: from its
// centred gradient, |dD/dx_k| (X_k's width); from its Taylor form, 2 |dP/de_k| over
// the box (P its polynomial part: 2 |a_k| for an affine form).
template <RigorousScalar T>
std::vector<double> contributions_of(const Dual<T>& slope, const SubBox& b) {
  using Tr = ScalarTraits<T>;
  std::vector<double> out(b.ranges.size(), 0.0);
  for (std::size_t k = 0; k < b.ranges.size(); ++k) {
    const T& g = slope.gradient[k];
    const double width = nearest_double(b.ranges[k].second - b.ranges[k].first);
    out[k] = width > 0 ? (std::abs(Tr::to_double(g)) + Tr::width(g) / 2) * width : 0;
  }
  return out;
}
template <RigorousScalar T, int Order>
std::vector<double> contributions_of(const TaylorForm<T, Order>& form, const SubBox& b) {
  using Tr = ScalarTraits<T>;
  std::vector<double> out(b.ranges.size(), 0.0);
  for (std::size_t k = 0; k < b.ranges.size() && static_cast<int>(k) < form.dims; ++k) {
    const T a = form.slope(static_cast<int>(k));
    out[k] = 2 * std::abs(Tr::to_double(a)) + Tr::width(a);
  }
  return out;
}

// One sub-box, a pure function of its arguments and the working precision (the
// paving's seam, claims/paving.hpp): its verdict as a whole, the midpoint as a
// refuting point {"coefficients", "sub_box", "failure"} when it fails there, and
// the paving's hints.
//
// The plain run first; where it leaves the sub-box undecided, with the affine,
// taylor2 or taylor3 form, that form's run (TaylorDifferences), whose D_t = M^{t+1} - M^t is
// one form; where that is still undecided with the affine form (or with the centred form), the centred run, whose D_t is
// one quantity too (CentredDifferences::change); where that is still undecided, the
// monotonicity test (MonotoneChanges) on the transitions left, until one of them is
// certified failing. The midpoint is checked as a point unless the centred run
// certifies the claim there.
template <RigorousScalar T>
BoxResult evaluate_sub_box(const Prompt& p, const Model& model, const State<T>& start, const RobustnessOptions& o,
                           const SubBox& b) {
  using Tr = ScalarTraits<T>;
  using K = typename Ratio<T>::Kind;
  const BasicModel<T> boxed = substitute<T>(model, o.box, [&](std::size_t k) {
    return Tr::hull(from_rational<T>(b.ranges[k].first), from_rational<T>(b.ranges[k].second));
  });
  Trace<T> trace = run_recursion_from<T>(p, start, boxed);
  const std::size_t transitions = trace.entries.size() - 1;
  std::vector<std::optional<T>> changes(transitions);
  std::vector<std::optional<Dual<T>>> slopes(transitions);
  std::vector<std::vector<double>> contributions(transitions);
  std::optional<TaylorDifferences<T, 1>> affine;
  std::optional<TaylorDifferences<T, 2>> taylor2;
  std::optional<TaylorDifferences<T, 3>> taylor3;
  std::optional<CentredDifferences<T>> centred;
  std::optional<MonotoneChanges<T>> monotone;
  bool failed = false;  // a transition certified failing: the sub-box is refuted, no more faces
  // The enclosure of D_t decided on: the trace's, the affine run's, the centred run's, the faces'.
  auto difference = [&](int t) -> std::optional<T> {
    const auto& m = [&](int s) -> const Ratio<T>& {
      return o.separation.metric == SeparationMetric::fisher ? trace.entries[s].metrics.fisher : trace.entries[s].metrics.gap_ratio;
    };
    if (m(t).kind != K::finite || m(t + 1).kind != K::finite) return std::nullopt;
    T d = m(t + 1).value - m(t).value;
    const auto u = static_cast<std::size_t>(t);
    auto take = [&](const auto& form) {
      if (form)
        if (const auto a = form->change(t)) {
          d = Tr::intersect(d, a->monotone_range());
          contributions[u] = contributions_of(*a, b);
        }
    };
    take(affine);
    take(taylor2);
    take(taylor3);
    if (centred) slopes[u] = centred->change(t);
    if (slopes[u]) {
      d = Tr::intersect(d, slopes[u]->value);
      if (contributions[u].empty()) contributions[u] = contributions_of(*slopes[u], b);  // the form's are sharper
    }
    auto holds = [&] { return o.separation.strict ? Tr::certainly_positive(d) : certainly_nonnegative(d); };
    auto fails = [&] { return o.separation.strict ? certainly_nonpositive(d) : Tr::certainly_negative(d); };
    if (monotone && slopes[u] && !failed && !holds() && !fails())
      if (const std::optional<T> faces = (*monotone)(t, *slopes[u])) d = Tr::intersect(d, *faces);
    failed = failed || fails();
    changes[u] = d;
    return d;
  };
  ClaimReport assessed = assess_separation<T>("R1", trace, o.separation, difference);
  // The chosen Taylor form's run (affine, taylor2 or taylor3), where plain evaluation is undecided.
  auto taylor_run = [&](auto& form) {
    form.emplace(p, model, start, o.box, b, o.separation.metric);
    trace = form->tightened(std::move(trace));
    assessed = assess_separation<T>("R1", trace, o.separation, difference);
  };
  if (assessed.verdict == Verdict::undecided && !o.box.empty()) {
    if (o.form == EnclosureForm::affine) taylor_run(affine);
    else if (o.form == EnclosureForm::taylor2) taylor_run(taylor2);
    else if (o.form == EnclosureForm::taylor3) taylor_run(taylor3);
  }
  const bool centred_next = o.form == EnclosureForm::centred || (o.form == EnclosureForm::affine && !o.box.empty());
  if (assessed.verdict == Verdict::undecided && centred_next) {
    centred.emplace(p, model, start, o.box, b, o.separation.metric);
    trace = centred->tightened(std::move(trace));
    if (o.monotone) monotone.emplace(p, model, start, o.box, b, o.separation.metric);
    assessed = assess_separation<T>("R1", trace, o.separation, difference);
  }
  BoxResult r;
  r.verdict = assessed.verdict;
  if (r.verdict == Verdict::proved) return r;
  if (r.verdict == Verdict::undecided)
    paving_hints<T>(assessed.evidence["layers"], resolve(o.separation.layers, transitions).first, changes, contributions, r);
  if (centred && centred->certifies_midpoint(o.separation)) return r;
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
    // A time limit is checked between batches: smaller ones stop closer to it.
    po.batch = o.batch > 0 ? o.batch : (!o.map ? 1 : o.time_limit > 0 ? 8 : 64);
    po.breadth_first = o.breadth_first;
    po.time_limit = o.time_limit;
    const Paving paving = pave(whole, po, evaluate, o.progress);
    if (o.paving) *o.paving = paving;
    return robustness_report(model, o, paving);
  }
}

}  // namespace iclcert::claims
