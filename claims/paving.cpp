#include "claims/paving.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>

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

namespace {

// A pending sub-box and its place in the order: its cost per unit of volume
// decided, (distance + kDistanceFloor) / volume with the distance its parent's
// evaluation reported, then its depth, then when it was queued (all 0 but `seq`
// in breadth-first order, which makes the order FIFO). Dividing by the volume
// keeps a boundary between proved and refuted regions, where every sub-box stays
// close to deciding, from taking the whole budget to ever smaller sub-boxes while
// large ones wait; the floor keeps the distance's ranking among equal volumes.
constexpr double kDistanceFloor = 0.1;
double cost_per_volume(double distance, int depth) { return (distance + kDistanceFloor) * std::ldexp(1.0, depth); }

struct Pending {
  double distance;
  int depth;
  long seq;
  bool operator<(const Pending& b) const {
    return std::tie(distance, depth, seq) < std::tie(b.distance, b.depth, b.seq);
  }
};

// Where to split b after its evaluation: the evaluation's hint when it names a
// dimension of positive width, else the widest relative to the whole box.
int split_of(const SubBox& b, const BoxResult& r, const std::vector<std::pair<Rational, Rational>>& whole,
             bool breadth_first) {
  const bool hinted = !breadth_first && r.split >= 0 && static_cast<std::size_t>(r.split) < whole.size() &&
                      b.ranges[static_cast<std::size_t>(r.split)].first < b.ranges[static_cast<std::size_t>(r.split)].second;
  return hinted ? r.split : split_dimension(b, whole);
}

}  // namespace

Paving pave(const std::vector<std::pair<Rational, Rational>>& whole, const PavingOptions& o,
            const BoxEvaluator& evaluate, const std::function<void(const PavingProgress&)>& progress) {
  if (o.budget < 1 || o.batch < 1) throw std::invalid_argument("pave: budget and batch must be >= 1");
  const auto start = std::chrono::steady_clock::now();
  auto out_of_time = [&] {
    return o.time_limit > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= o.time_limit;
  };
  Paving out;
  std::map<Pending, SubBox> pending{{Pending{0, 0, 0}, SubBox{whole, 1, 0}}};
  long seq = 1;
  auto queue = [&](SubBox b, double distance) {
    if (std::isnan(distance)) distance = std::numeric_limits<double>::infinity();  // a strict weak order
    const Pending key = o.breadth_first ? Pending{0, 0, seq++} : Pending{cost_per_volume(distance, b.depth), b.depth, seq++};
    pending.emplace(key, std::move(b));
  };
  bool stop = false;
  // One evaluated sub-box: decided, or split (its halves queued), or, R1 without
  // --map at its first refuting point, the end.
  auto settle = [&](const SubBox& b, const BoxResult& r) {
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
    } else if (const int k = split_of(b, r, whole, o.breadth_first); k < 0) {
      queue(b, r.distance);  // a ball alone: nothing to bisect
      stop = true;
    } else {
      SubBox left = b, right = b;
      const Rational mid = (b.ranges[k].first + b.ranges[k].second) / 2;
      left.ranges[k].second = mid;
      right.ranges[k].first = mid;
      left.volume = right.volume = b.volume / 2;
      left.depth = right.depth = b.depth + 1;
      queue(std::move(left), r.distance);
      queue(std::move(right), r.distance);
    }
    if (stopping) stop = out.stopped_at_refutation = true;
  };
  while (!pending.empty() && out.evaluated < o.budget && !stop) {
    // One round: the first sub-boxes in the order, merged before the next round is formed.
    const std::size_t n = std::min<std::size_t>({pending.size(), static_cast<std::size_t>(kPavingRound),
                                                 static_cast<std::size_t>(o.budget - out.evaluated)});
    std::vector<std::pair<Pending, SubBox>> round;
    for (std::size_t k = 0; k < n; ++k) {
      auto node = pending.extract(pending.begin());
      round.emplace_back(node.key(), std::move(node.mapped()));
    }
    std::size_t next = 0;  // the first of the round not settled
    while (next < n && !stop) {
      if (out.evaluated > 0 && out_of_time()) {
        out.stopped_at_time_limit = true;
        break;
      }
      const std::size_t m = std::min<std::size_t>(n - next, static_cast<std::size_t>(o.batch));
      std::vector<SubBox> batch;
      for (std::size_t k = next; k < next + m; ++k) batch.push_back(round[k].second);
      const std::vector<BoxResult> results = evaluate(batch);
      if (results.size() != m) throw std::logic_error("pave: the evaluator returned a result count unlike its batch's");
      // Settle in order; a stop leaves the rest of the round pending, as if it had
      // never been evaluated (so the batch size cannot show in the output).
      for (std::size_t k = 0; k < m && !stop; ++k, ++next) settle(batch[k], results[k]);
      if (progress) progress({out.evaluated, o.budget, out.proved, out.refuted, 1 - out.proved - out.refuted});
    }
    for (std::size_t k = next; k < n; ++k) pending.emplace(round[k].first, std::move(round[k].second));
    if (out.stopped_at_time_limit) break;
  }
  for (const auto& [key, b] : pending) {
    out.undecided += b.volume;
    out.regions.push_back({b, Verdict::undecided});
  }
  out.pending = pending.size();
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
  // The ranges exact (NAME_lo, NAME_hi), then as the nearest doubles, for a reader
  // that plots (NAME_lo_float, NAME_hi_float; as the sweep CSV's decimal columns).
  std::string out = "region,status,volume,volume_exact,depth";
  auto cell = [&out](const std::string& v) { out.append(",").append(v); };
  for (const auto& n : names) cell(n + "_lo"), cell(n + "_hi");
  for (const auto& n : names) cell(n + "_lo_float"), cell(n + "_hi_float");
  out.append("\n");
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    const Region& r = p.regions[i];
    out.append(std::to_string(i));
    cell(to_string(r.status));
    cell(decimal(r.box.volume));
    cell(to_string(r.box.volume));
    cell(std::to_string(r.box.depth));
    for (const auto& [lo, hi] : r.box.ranges) cell(to_string(lo)), cell(to_string(hi));
    for (const auto& [lo, hi] : r.box.ranges) cell(decimal(lo)), cell(decimal(hi));
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
