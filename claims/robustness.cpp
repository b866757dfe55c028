#include "claims/robustness.hpp"

namespace iclcert::claims {

BoxDimension parse_box(const std::string& text) {
  const auto eq = text.find('='), colon = text.find(':', eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || colon == std::string::npos)
    throw ClaimInputError("--box " + text + ": expected NAME=LO:HI, for example alpha=0.1:1");
  BoxDimension d;
  d.coefficient = text.substr(0, eq);
  if (d.coefficient != "beta" && d.coefficient != "gamma" && d.coefficient != "alpha" && d.coefficient != "alpha_label")
    throw ClaimInputError("--box " + text + ": the coefficient must be beta, gamma, alpha or alpha_label");
  try {
    d.lo = parse_rational(text.substr(eq + 1, colon - eq - 1));
    d.hi = parse_rational(text.substr(colon + 1));
  } catch (const std::invalid_argument& e) {
    throw ClaimInputError("--box " + text + ": " + e.what());
  }
  if (!(d.lo < d.hi)) throw ClaimInputError("--box " + text + ": expected LO < HI");
  return d;
}

void require_distinct_coefficients(const std::vector<BoxDimension>& box) {
  for (std::size_t k = 0; k < box.size(); ++k)
    for (std::size_t j = 0; j < k; ++j)
      if (box[j].coefficient == box[k].coefficient)
        throw ClaimInputError("--box " + box[k].coefficient + " is given twice (" + to_string(box[j].lo) + ":" +
                              to_string(box[j].hi) + " and " + to_string(box[k].lo) + ":" + to_string(box[k].hi) +
                              "): give each coefficient one range");
}

std::string probe_override_scope(const Model& model, const std::vector<BoxDimension>& box) {
  if (box.empty()) return "";
  std::string layers;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto* r = std::get_if<ReducedLayer<Rational>>(&model.layers[l]);
    if (r && r->probe) layers += (layers.empty() ? "" : ", ") + std::to_string(l + 1);
  }
  if (layers.empty()) return "";
  return "box scope: the boxed coefficients are the training rows' at every layer; the probe row's own "
         "coefficients (layer" + std::string(layers.find(',') == std::string::npos ? " " : "s ") + layers +
         ") are other coefficients and keep the model's values" +
         (model.probe_is_key ? std::string(" (the probe is a key, so the claim depends on them)")
                             : std::string("; the probe is not a key, so the training rows, and the claim, do not "
                                           "depend on them: the verdict holds for any probe coefficients"));
}

EnclosureForm parse_form(const std::string& name) {
  std::string expected;
  for (std::size_t i = 0; i < kEnclosureFormNames.size(); ++i) {
    if (name == kEnclosureFormNames[i]) return static_cast<EnclosureForm>(i);
    expected += std::string(i == 0 ? "" : i + 1 == kEnclosureFormNames.size() ? " or " : ", ") + kEnclosureFormNames[i];
  }
  throw ClaimInputError("--form " + name + ": expected " + expected);
}

const char* form_name(EnclosureForm form) { return kEnclosureFormNames[static_cast<std::size_t>(form)]; }

namespace {

std::string fraction_line(const char* what, const Rational& q) {
  return std::string(what) + " volume fraction: " + to_string(q) + " (" + std::to_string(nearest_double(q)) + ")";
}

}  // namespace

ClaimReport robustness_report(const Model& model, const RobustnessOptions& o, const Paving& paving) {
  ClaimReport r;
  r.claim = "R1";
  const std::string scope = probe_override_scope(model, o.box);
  if (!scope.empty()) r.lines.push_back(scope);
  const Json& refuting = paving.refuting_points;
  // Without --map the check stops at its first refuting point: the evidence keeps
  // that one. A map records how many there were, and its file lists them all.
  Json first = Json::array();
  if (!refuting.empty()) first.push_back(refuting[0]);
  r.lines.push_back(std::to_string(paving.evaluated) + " sub-boxes evaluated (budget " + std::to_string(o.budget) +
                    ", " + (o.form == EnclosureForm::plain ? std::string("plain evaluation") : form_name(o.form) + std::string(" form")) + ")");
  if (paving.stopped_at_time_limit)
    r.lines.push_back("stopped at the time limit (" + Json(o.time_limit).dump() + " s) after " +
                      std::to_string(paving.evaluated) + " sub-boxes; --budget " + std::to_string(paving.evaluated) +
                      " reproduces this paving");
  r.lines.push_back(fraction_line("proved", paving.proved));
  if (o.map) {
    r.lines.push_back(fraction_line("refuted", paving.refuted));
    r.lines.push_back(fraction_line("undecided", paving.undecided) + ", " + std::to_string(paving.pending) +
                      " sub-boxes");
    if (!refuting.empty())
      r.lines.push_back(std::to_string(refuting.size()) + " refuting points, the first: " +
                        refuting[0]["coefficients"].dump());
  } else if (!refuting.empty()) {
    r.lines.push_back("refuting point: " + refuting[0]["coefficients"].dump());
  } else if (paving.pending > 0) {
    r.lines.push_back(std::to_string(paving.pending) + " sub-boxes undecided, volume " +
                      std::to_string(nearest_double(paving.undecided)));
  }
  r.evidence = {{"statement", o.separation.strict ? "M^{t+1} > M^t" : "M^{t+1} >= M^t"},
                {"metric", o.separation.metric == SeparationMetric::fisher ? "fisher" : "gap"},
                {"box", Json::array()},
                {"box_scope", scope.empty() ? Json(nullptr) : Json(scope)},
                {"ball", o.ball ? Json(to_string(*o.ball)) : Json(nullptr)},
                {"form", form_name(o.form)},
                {"sub_boxes_evaluated", paving.evaluated},
                {"proved_volume_fraction", to_string(paving.proved)},
                {"undecided_sub_boxes", paving.pending},
                {"refuting_points", first}};
  if (o.map)
    r.evidence["map"] = {{"refuted_volume_fraction", to_string(paving.refuted)},
                         {"undecided_volume_fraction", to_string(paving.undecided)},
                         {"regions", paving.regions.size()},
                         {"refuting_points", refuting.size()}};
  for (const auto& d : o.box)
    r.evidence["box"].push_back({{"coefficient", d.coefficient}, {"lo", to_string(d.lo)}, {"hi", to_string(d.hi)}});
  if (!refuting.empty()) {
    r.verdict = Verdict::refuted;
    r.counterexample = refuting[0]["failure"];
    r.counterexample["coefficients"] = refuting[0]["coefficients"];
  } else if (paving.proved == 1) {
    r.verdict = Verdict::proved;
  } else {
    r.verdict = Verdict::undecided;
    r.more_precision_may_help = false;  // more budget, rather than more bits, is the usual remedy
  }
  return r;
}

}  // namespace iclcert::claims
