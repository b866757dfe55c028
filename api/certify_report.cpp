#include "api/certify_report.hpp"

#include "api/csv_table.hpp"
#include "io/json_numbers.hpp"

#include <algorithm>
#include <cmath>

namespace iclcert::api {

namespace {

// An end of a margin enclosure: the double's round-trip text, "+inf" / "-inf" as
// docs/formats.md writes infinities.
std::string end_text(double v) {
  if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
  return round_trip_decimal(v);
}

}  // namespace

void print_certify_summary(const std::string& who, const gpu::CertifyReport& r, Account& out,
                           const std::string& arith) {
  const long B = static_cast<long>(r.prompts.size());
  out.print("  %scertified by float64 intervals: %ld; escalated to Arb: %ld (certified there: %ld); undecided: %ld\n",
            who.c_str(), r.certified, r.arb_runs, r.escalated, r.undecided);
  if (r.inputs_not_doubles > 0)
    out.print("  %s%ld prompts have inputs that are not doubles and went to Arb directly\n", who.c_str(),
              r.inputs_not_doubles);
  out.print("  %sfloat predictions that flip against a certified one: %ld\n", who.c_str(), r.flips);
  if (r.float_undefined > 0)
    out.print("  %s%ld float predictions are undefined (null): the %s state overflowed to inf or NaN\n",
              who.c_str(), r.float_undefined, arith.c_str());
  out.print("  %s%.3f s: float %.3f s, float64 intervals %.3f s, Arb %.3f s; %.0f prompts/s\n", who.c_str(),
            r.seconds, r.float_seconds, r.interval_seconds, r.arb_seconds, B / std::max(1e-9, r.seconds));
  out.print("  %sdecided at float64 per depth:", who.c_str());
  for (std::size_t t = 0; t < r.decided_float64_by_depth.size(); ++t)
    out.print(" %zu:%.4f", t, B ? static_cast<double>(r.decided_float64_by_depth[t]) / B : 0.0);
  out.print("\n");
}

CsvTable certify_csv(const gpu::CertifyReport& r) {
  const long B = static_cast<long>(r.prompts.size());
  CsvTable csv({"t", "decided_float64", "fraction"});
  for (std::size_t t = 0; t < r.decided_float64_by_depth.size(); ++t) {
    csv.row().integer(static_cast<long long>(t)).integer(r.decided_float64_by_depth[t]);
    B ? csv.number(static_cast<double>(r.decided_float64_by_depth[t]) / B) : csv.empty();
  }
  return csv;
}

Json certify_json(const gpu::CertifyReport& r) {
  const long B = static_cast<long>(r.prompts.size());
  Json by_depth = Json::array();
  for (std::size_t t = 0; t < r.decided_float64_by_depth.size(); ++t)
    by_depth.push_back(Json{{"t", t},
                            {"decided", r.decided_float64_by_depth[t]},
                            {"fraction", fraction_json(r.decided_float64_by_depth[t], B)}});
  Json prompts = Json::array();
  for (const gpu::PromptCertificate& c : r.prompts)
    prompts.push_back(Json{{"status", gpu::to_string(c.status)},
                           {"prediction", c.prediction},
                           {"float_prediction", c.float_undefined() ? Json(nullptr) : Json(c.float_prediction)},
                           {"flipped", c.flipped()},
                           {"margin", Json::array({end_text(c.lo), end_text(c.hi)})},
                           {"margin_float", statistic_json(0.5 * c.lo + 0.5 * c.hi)},
                           {"bits", c.bits}});
  return Json{{"certified", r.certified},
              {"escalated", r.escalated},
              {"undecided", r.undecided},
              {"flips", r.flips},
              {"float_undefined", r.float_undefined},
              {"arb_runs", r.arb_runs},
              {"inputs_not_doubles", r.inputs_not_doubles},
              {"decided_float64_by_depth", std::move(by_depth)},
              {"seconds", statistic_json(r.seconds)},
              {"per_prompt", std::move(prompts)}};
}

}  // namespace iclcert::api
