// Claim R1 (spec section 6): a separation claim (A2's statement, or A1's strict
// one) holds for every coefficient in a box and/or every prompt in an l_inf ball.
//
// Method: branch and bound. A sub-box is evaluated by running the recursion once
// on enclosures of the whole sub-box (each boxed coefficient is the interval
// [lo, hi] at every reduced layer; each prompt coordinate, training points and
// probe, is widened by [-eps, eps]); if the enclosures certify the claim at every
// layer, the whole sub-box is proved; if they certify its failure, every point of
// it refutes. Otherwise its midpoint (with the prompt at the ball's centre) is
// checked as a point; a certified failure there is a refuting point. Otherwise the
// coefficient with the largest relative width is bisected. The ball is enclosed
// whole, never subdivided (its dimension is N d + d). Runs at one precision.
// Report: the proved volume fraction (exact: a sum of powers of 1/2), the refuting
// points, and the undecided remainder when the budget of sub-boxes runs out.
// Trusts: as A1/A2 (containment of the interval backend).
#pragma once

#include "claims/separation.hpp"

#include <deque>
#include <optional>

namespace iclcert::claims {

struct BoxDimension {
  std::string coefficient;  // beta | gamma | alpha | alpha_label
  Rational lo, hi;
};

// "alpha=0.1:1" -> {alpha, 1/10, 1}; throws ClaimInputError.
BoxDimension parse_box(const std::string& text);

// Throws ClaimInputError when a coefficient is boxed twice. Two ranges for one name
// have no single meaning (intersection? union?), and `substitute` would keep only the
// last while the report listed both (issue 16): one range per coefficient.
void require_distinct_coefficients(const std::vector<BoxDimension>& box);

// What the box ranges over, said exactly for the report: the training rows'
// coefficient at every reduced layer (the probe row too where it has no coefficients
// of its own); a probe row's own coefficients are separate coefficients and keep the
// model's values (theory/claims.md, R1). Empty when no boxed layer has probe overrides.
std::string probe_override_scope(const Model& model, const std::vector<BoxDimension>& box);

struct RobustnessOptions {
  std::vector<BoxDimension> box;
  std::optional<Rational> ball;  // l_inf radius around the prompt
  SeparationOptions separation;
  int budget = 256;  // sub-boxes evaluated at most
};

// The model with the boxed coefficients replaced, in every reduced layer's training
// coefficients, by `values` (one per box dimension); probe overrides are left as they
// are. Throws ClaimInputError when a boxed model has a layer that is not reduced, or
// a coefficient is boxed twice.
template <class T, class Make>
BasicModel<T> substitute(const Model& m, const std::vector<BoxDimension>& box, Make&& value_of_dim) {
  require_distinct_coefficients(box);
  BasicModel<T> out = convert_model(m, [](const Rational& q) { return from_rational<T>(q); });
  for (std::size_t l = 0; l < out.layers.size(); ++l) {
    auto* r = std::get_if<ReducedLayer<T>>(&out.layers[l]);
    if (!r) {
      if (box.empty()) continue;
      throw ClaimInputError("--box applies to reduced layers; layer " + std::to_string(l + 1) + " is not reduced");
    }
    for (std::size_t k = 0; k < box.size(); ++k) {
      T v = value_of_dim(k);
      const std::string& c = box[k].coefficient;
      (c == "beta" ? r->train.beta : c == "gamma" ? r->train.gamma : c == "alpha" ? r->train.alpha : r->train.alpha_label) = v;
    }
  }
  return out;
}

template <RigorousScalar T>
ClaimReport check_robustness(const Prompt& p, const Model& model, const RobustnessOptions& o) {
  using Tr = ScalarTraits<T>;
  if (o.box.empty() && !o.ball) throw ClaimInputError("R1 needs a --box over coefficients and/or a --ball around the prompt");
  require_distinct_coefficients(o.box);
  if constexpr (ScalarTraits<T>::exact) {
    throw ClaimInputError("R1 encloses whole boxes and needs an interval arithmetic (--arith interval)");
  } else {
    struct SubBox {
      std::vector<std::pair<Rational, Rational>> ranges;
      Rational volume;
    };
    std::deque<SubBox> queue;
    SubBox whole{{}, 1};
    for (const auto& d : o.box) whole.ranges.push_back({d.lo, d.hi});
    queue.push_back(whole);

    State<T> start = initial_state<T>(p, model.probe_label_init);
    if (o.ball) {
      const T widen = Tr::hull(from_rational<T>(-*o.ball), from_rational<T>(*o.ball));
      for (int j = 0; j < start.rows(); ++j)
        for (int k = 0; k < p.d; ++k) start.Z(j, k) += widen;
    }
    Rational proved_volume = 0;
    int evaluated = 0;
    Json refuting = Json::array();
    ClaimReport r;
    r.claim = "R1";
    while (!queue.empty() && evaluated < o.budget && refuting.empty()) {
      SubBox b = queue.front();
      queue.pop_front();
      ++evaluated;
      const BasicModel<T> boxed = substitute<T>(model, o.box, [&](std::size_t k) {
        return Tr::hull(from_rational<T>(b.ranges[k].first), from_rational<T>(b.ranges[k].second));
      });
      const ClaimReport box_report = assess_separation<T>("R1", run_recursion_from<T>(p, start, boxed), o.separation);
      Json where = Json::object();
      for (std::size_t k = 0; k < o.box.size(); ++k)
        where[o.box[k].coefficient] = {to_string(b.ranges[k].first), to_string(b.ranges[k].second)};
      if (box_report.verdict == Verdict::proved) {
        proved_volume += b.volume;
        continue;
      }
      // A certified failure of the whole sub-box, or of its midpoint at the ball's centre.
      Model mid = model;
      std::vector<Rational> mids;
      for (const auto& [lo, hi] : b.ranges) mids.push_back((lo + hi) / 2);
      const BasicModel<Rational> mid_exact = substitute<Rational>(model, o.box, [&](std::size_t k) { return mids[k]; });
      mid.layers = mid_exact.layers;
      const ClaimReport point = check_separation<T>("R1", p, mid, o.separation);
      if (box_report.verdict == Verdict::refuted || point.verdict == Verdict::refuted) {
        Json at = Json::object();
        for (std::size_t k = 0; k < o.box.size(); ++k) at[o.box[k].coefficient] = to_string(mids[k]);
        refuting.push_back({{"coefficients", at}, {"sub_box", where}, {"failure", point.counterexample}});
        r.counterexample = point.counterexample;
        r.counterexample["coefficients"] = at;
        break;
      }
      if (o.box.empty()) {
        queue.push_back(b);  // nothing to bisect: the ball is too wide at this precision
        break;
      }
      std::size_t widest = 0;
      Rational best = -1;
      for (std::size_t k = 0; k < o.box.size(); ++k) {
        const Rational rel = (b.ranges[k].second - b.ranges[k].first) / (o.box[k].hi - o.box[k].lo);
        if (rel > best) best = rel, widest = k;
      }
      SubBox left = b, right = b;
      const Rational m = (b.ranges[widest].first + b.ranges[widest].second) / 2;
      left.ranges[widest].second = m;
      right.ranges[widest].first = m;
      left.volume = right.volume = b.volume / 2;
      queue.push_back(left);
      queue.push_back(right);
    }
    const Rational undecided_volume = refuting.empty() ? 1 - proved_volume : Rational(0);
    const std::string scope = probe_override_scope(model, o.box);
    if (!scope.empty()) r.lines.push_back(scope);
    r.lines.push_back(std::to_string(evaluated) + " sub-boxes evaluated (budget " + std::to_string(o.budget) + ")");
    r.lines.push_back("proved volume fraction: " + to_string(proved_volume) + " (" +
                      std::to_string(nearest_double(proved_volume)) + ")");
    if (!refuting.empty()) r.lines.push_back("refuting point: " + refuting[0]["coefficients"].dump());
    else if (!queue.empty())
      r.lines.push_back(std::to_string(queue.size()) + " sub-boxes undecided, volume " +
                        std::to_string(nearest_double(undecided_volume)));
    r.evidence = {{"statement", o.separation.strict ? "M^{t+1} > M^t" : "M^{t+1} >= M^t"},
                  {"metric", o.separation.metric == SeparationMetric::fisher ? "fisher" : "gap"},
                  {"box", Json::array()},
                  {"box_scope", scope.empty() ? Json(nullptr) : Json(scope)},
                  {"ball", o.ball ? Json(to_string(*o.ball)) : Json(nullptr)},
                  {"sub_boxes_evaluated", evaluated},
                  {"proved_volume_fraction", to_string(proved_volume)},
                  {"undecided_sub_boxes", queue.size()},
                  {"refuting_points", refuting}};
    for (const auto& d : o.box)
      r.evidence["box"].push_back({{"coefficient", d.coefficient}, {"lo", to_string(d.lo)}, {"hi", to_string(d.hi)}});
    if (!refuting.empty()) r.verdict = Verdict::refuted;
    else if (proved_volume == 1) r.verdict = Verdict::proved;
    else {
      r.verdict = Verdict::undecided;
      r.more_precision_may_help = false;  // more budget, rather than more bits, is the usual remedy
    }
    return r;
  }
}

}  // namespace iclcert::claims
