#include "claims/paving.hpp"

#include <cstdio>
#include <deque>
#include <stdexcept>

namespace iclcert::claims {

int split_dimension(const SubBox& b, const std::vector<std::pair<Rational, Rational>>& whole) {
  int widest = -1;
  Rational best = -1;
  for (std::size_t k = 0; k < whole.size(); ++k) {
    const Rational rel = (b.ranges[k].second - b.ranges[k].first) / (whole[k].second - whole[k].first);
    if (rel > best) best = rel, widest = static_cast<int>(k);
  }
  return widest;
}

Paving pave(const std::vector<std::pair<Rational, Rational>>& whole, const PavingOptions& o,
            const BoxEvaluator& evaluate, const std::function<void(const PavingProgress&)>& progress) {
  if (o.budget < 1 || o.batch < 1) throw std::invalid_argument("pave: budget and batch must be >= 1");
  Paving out;
  std::deque<SubBox> queue{SubBox{whole, 1, 0}};
  bool stop = false;
  while (!queue.empty() && out.evaluated < o.budget && !stop) {
    const std::size_t n = std::min<std::size_t>({queue.size(), static_cast<std::size_t>(o.batch),
                                                 static_cast<std::size_t>(o.budget - out.evaluated)});
    std::vector<SubBox> batch(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    const std::vector<BoxResult> results = evaluate(batch);
    if (results.size() != n) throw std::logic_error("pave: the evaluator returned a result count unlike its batch's");
    // Merge in queue order; a stop discards the rest of the batch, as if it had
    // never been evaluated (so the batch size cannot show in the output).
    std::size_t used = 0;
    for (; used < n && !stop; ++used) {
      const SubBox& b = batch[used];
      const BoxResult& r = results[used];
      ++out.evaluated;
      if (!r.refuting_point.is_null()) out.refuting_points.push_back(r.refuting_point);
      const bool stopping = o.stop_at_first_refutation && !r.refuting_point.is_null();
      if (r.verdict == Verdict::proved) {
        out.proved += b.volume;
        out.regions.push_back({b, Verdict::proved});
      } else if (r.verdict == Verdict::refuted && !r.refuting_point.is_null()) {
        out.refuted += b.volume;
        out.regions.push_back({b, Verdict::refuted});
      } else if (stopping) {
        // R1 without --map stops here: the refuting point decides the claim, and
        // its undecided sub-box is not split (nor counted as pending).
        out.undecided += b.volume;
        out.regions.push_back({b, Verdict::undecided});
      } else if (const int k = split_dimension(b, whole); k < 0) {
        queue.push_back(b);  // a ball alone: nothing to bisect
        stop = true;
      } else {
        SubBox left = b, right = b;
        const Rational m = (b.ranges[k].first + b.ranges[k].second) / 2;
        left.ranges[k].second = m;
        right.ranges[k].first = m;
        left.volume = right.volume = b.volume / 2;
        left.depth = right.depth = b.depth + 1;
        queue.push_back(std::move(left));
        queue.push_back(std::move(right));
      }
      if (stopping) stop = out.stopped_at_refutation = true;
    }
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(used));
    if (progress) progress({out.evaluated, o.budget, out.proved, out.refuted, 1 - out.proved - out.refuted});
  }
  for (const SubBox& b : queue) {
    out.undecided += b.volume;
    out.regions.push_back({b, Verdict::undecided});
  }
  out.pending = queue.size();
  return out;
}

namespace {

// The shortest decimal that reads back as the nearest double: for a glance only,
// the exact rational is beside it.
std::string decimal(const Rational& q) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", nearest_double(q));
  return buf;
}

Json midpoint_of(const SubBox& b, const std::vector<std::string>& names) {
  Json at = Json::object();
  for (std::size_t k = 0; k < names.size(); ++k)
    at[names[k]] = to_string((b.ranges[k].first + b.ranges[k].second) / 2);
  return at;
}

}  // namespace

std::string regions_csv(const Paving& p, const std::vector<std::string>& names) {
  // Cell by cell with append: g++ 12 warns (-Wrestrict, falsely) on inlined
  // `"," + std::string` chains.
  std::string out = "region,status,volume,volume_exact,depth";
  auto cell = [&out](const std::string& v) { out.append(",").append(v); };
  for (const auto& n : names) cell(n + "_lo"), cell(n + "_hi");
  out.append("\n");
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    const Region& r = p.regions[i];
    out.append(std::to_string(i));
    cell(to_string(r.status));
    cell(decimal(r.box.volume));
    cell(to_string(r.box.volume));
    cell(std::to_string(r.box.depth));
    for (const auto& [lo, hi] : r.box.ranges) cell(to_string(lo)), cell(to_string(hi));
    out.append("\n");
  }
  return out;
}

Json regions_json(const Paving& p, const std::vector<std::string>& names, const Json& header) {
  Json j = header;
  auto fractions = [&](auto&& show) {
    return Json{{"proved", show(p.proved)}, {"refuted", show(p.refuted)}, {"undecided", show(p.undecided)}};
  };
  j["volume_fractions"] = fractions([](const Rational& q) { return to_string(q); });
  j["volume_fractions_decimal"] = fractions([](const Rational& q) { return nearest_double(q); });
  j["sub_boxes_evaluated"] = p.evaluated;
  Json regions = Json::array();
  for (const Region& r : p.regions) {
    Json ranges = Json::object();
    for (std::size_t k = 0; k < names.size(); ++k)
      ranges[names[k]] = {to_string(r.box.ranges[k].first), to_string(r.box.ranges[k].second)};
    regions.push_back({{"status", to_string(r.status)},
                       {"volume", to_string(r.box.volume)},
                       {"depth", r.box.depth},
                       {"ranges", ranges},
                       {"counterexample", r.status == Verdict::refuted ? midpoint_of(r.box, names) : Json(nullptr)}});
  }
  j["regions"] = regions;
  Json points = Json::array();
  for (const Json& pt : p.refuting_points)
    points.push_back({{"coefficients", pt["coefficients"]}, {"layer", pt["failure"].value("layer", Json(nullptr))}});
  j["refuting_points"] = points;
  return j;
}

}  // namespace iclcert::claims
