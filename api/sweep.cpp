#include "api/sweep.hpp"

#include "claims/escalation.hpp"
#include "api/arithmetic.hpp"
#include "api/check.hpp"
#include "api/distribute.hpp"
#include "api/instance.hpp"
#include "gpu/progress.hpp"
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"
#include "numerics/recursion.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace iclcert::api {
namespace {

using claims::ClaimReport;
using claims::Verdict;

// Limits that keep a typo (COUNT = 1e9) from starting a run of years.
constexpr long kMaxGridCount = 10000;     // values on one axis
constexpr long kMaxGridCells = 1000000;   // cells in all

using SweepOptions = SweepRequest;
using Axis = SweepAxis;
using CellResult = SweepCell;

void check_axis_name(const std::string& name, const std::string& text) {
  if (name != "beta" && name != "gamma" && name != "alpha" && name != "alpha_label")
    throw std::invalid_argument("--grid " + text + ": unknown coefficient '" + name +
                                "' (expected beta, gamma, alpha or alpha_label)");
}

// An axis as the grid takes it; `text` names it in messages (as given, or rebuilt).
void check_axis(const SweepAxis& a, const std::string& text) {
  auto bad = [&](const std::string& why) { return std::invalid_argument("--grid " + text + ": " + why); };
  check_axis_name(a.name, text);
  if (a.lo > a.hi) throw bad("expected LO <= HI");
  if (a.count < 1 || a.count > kMaxGridCount)
    throw bad("COUNT: expected a whole number from 1 to " + std::to_string(kMaxGridCount));
  if (a.count == 1 && a.lo != a.hi) throw bad("COUNT 1 with LO != HI: the one value would be LO; write LO:LO:1");
}

// A decimal that pandas reads as a number: the nearest double, round-trip digits.
std::string decimal(const Rational& q) {
  // The shortest form that reads back as the same double.
  const double x = nearest_double(q);
  char s[64];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(s, sizeof s, "%.*g", digits, x);
    if (std::strtod(s, nullptr) == x) break;
  }
  return s;
}

void set_coefficient(ReducedCoefficients<Rational>& c, const std::string& name, const Rational& v) {
  (name == "beta" ? c.beta : name == "gamma" ? c.gamma : name == "alpha" ? c.alpha : c.alpha_label) = v;
}

// The cell's model: the gridded training coefficients at every layer (a probe
// row's own coefficients, where a layer has them, keep their values, as for R1).
Model cell_model(const Model& base, const std::vector<Axis>& axes, const std::vector<Rational>& values) {
  Model m = base;
  for (auto& layer : m.layers) {
    auto& r = std::get<ReducedLayer<Rational>>(layer);  // checked up front
    for (std::size_t k = 0; k < axes.size(); ++k) set_coefficient(r.train, axes[k].name, values[k]);
  }
  return m;
}

// "margin": the final probe margin is certainly positive (proved) or certainly
// negative (refuted). Not a claim of `check`, so it lives here; it runs the same
// recursion and escalation as check's claims.
ClaimReport check_margin(const SweepOptions& o, const Prompt& p, const Model& m) {
  return claims::with_escalation(o.prec, o.max_prec, [&] {
    using Tr = ScalarTraits<ArbBall>;
    const Trace<ArbBall> t = run_recursion<ArbBall>(p, m);
    const auto& margin = t.entries.back().metrics.probe_margin;
    if (!margin) throw claims::ClaimInputError("the margin needs a probe label");
    ClaimReport r;
    r.claim = "margin";
    if (Tr::certainly_positive(*margin)) r.verdict = Verdict::proved;
    else if (Tr::certainly_negative(*margin)) r.verdict = Verdict::refuted;
    else r.more_precision_may_help = !Tr::certainly_zero(*margin);
    return r;
  });
}

struct Sweep {
  std::vector<Axis> axes;
  std::vector<Prompt> prompts;
  Model model;
  long cells = 1;
  std::vector<Rational> values_of(long cell) const {
    std::vector<Rational> v(axes.size());
    for (std::size_t k = axes.size(); k-- > 0;) {
      v[k] = axes[k].value(cell % axes[k].count);
      cell /= axes[k].count;
    }
    return v;
  }
};

PointCheck point_check(const SweepOptions& o, long k) {
  PointCheck c;
  c.claim = o.claim;
  c.metric = o.metric;
  c.sample = o.sample;
  // Prompt k of --sample is drawn with seed + k: record that seed, as `check --sample
  // d,C,N --seed S+k` would (E1 draws its permutations from it too).
  c.seed = o.sample.empty() ? o.seed : o.seed + static_cast<std::uint64_t>(k);
  c.prec = o.prec;
  c.max_prec = o.max_prec;
  return c;
}

CellResult run_cell(const SweepOptions& o, const Sweep& s, long cell, std::atomic<long>& done) {
  const auto start = std::chrono::steady_clock::now();
  CellResult r;
  r.values = s.values_of(cell);
  const Model m = cell_model(s.model, s.axes, r.values);
  for (std::size_t k = 0; k < s.prompts.size(); ++k) {
    checkpoint();
    const PointCheck c = point_check(o, static_cast<long>(k));
    const auto t0 = std::chrono::steady_clock::now();
    ClaimReport v;
    std::string reason, detail;
    try {
      v = o.claim == "margin" ? check_margin(o, s.prompts[k], m) : check_point(c, s.prompts[k], m);
      if (v.verdict == Verdict::undecided && v.more_precision_may_help) {
        reason = "enclosures_too_wide";
        detail = "enclosures too wide at " + std::to_string(v.precision_bits) + " bits (raise --max-prec)";
      } else if (v.verdict == Verdict::undecided) {
        reason = "precision_cannot_decide";
        detail = "more precision cannot decide (an exact tie, or no layer where the claim applies)";
      }
    } catch (const claims::ClaimInputError& e) {
      v.verdict = Verdict::undecided;  // the claim does not apply in this cell
      reason = "hypotheses_fail";
      detail = e.what();
    }
    if (v.verdict == Verdict::proved) ++r.proved;
    if (v.verdict == Verdict::undecided) {
      ++r.undecided, ++r.undecided_reasons[reason];
      r.undecided_details.emplace(reason, detail);  // the first
    }
    if (v.verdict == Verdict::refuted) {
      ++r.refuted;
      if (r.refuting_prompt < 0) {
        r.refuting_prompt = static_cast<long>(k);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (o.claim != "margin") r.counterexample = point_verdict_file(c, v, s.prompts[k], m, secs);
      }
    }
    ++done;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// A cell's result as bytes for distribute.hpp (CBOR: every number exactly); its
// coordinates are recomputed from the index.
std::string pack(const CellResult& r) {
  Json reasons = Json::object(), details = Json::object();
  for (const auto& [why, n] : r.undecided_reasons) reasons[why] = n;
  for (const auto& [why, text] : r.undecided_details) details[why] = text;
  const Json j = {{"p", r.proved},          {"r", r.refuted},           {"u", r.undecided}, {"why", reasons},
                  {"whyd", details},        {"k", r.refuting_prompt}, {"cex", r.counterexample}, {"s", r.seconds}};
  const std::vector<std::uint8_t> bytes = Json::to_cbor(j);
  return {bytes.begin(), bytes.end()};
}

CellResult unpack(const Sweep& s, long cell, const std::string& bytes) {
  const Json j = Json::from_cbor(bytes);
  CellResult r;
  r.values = s.values_of(cell);
  r.proved = j["p"].get<long>(), r.refuted = j["r"].get<long>(), r.undecided = j["u"].get<long>();
  for (const auto& [why, n] : j["why"].items()) r.undecided_reasons[why] = n.get<long>();
  for (const auto& [why, text] : j["whyd"].items()) r.undecided_details[why] = text.get<std::string>();
  r.refuting_prompt = j["k"].get<long>();
  r.counterexample = j["cex"];
  r.seconds = j["s"].get<double>();
  return r;
}

// Cells are handed out by index to the threads (and, under mpiexec, to the ranks:
// api/distribute.hpp); results land at their index, so the output depends neither
// on the thread count nor on the number of ranks. Rank 0 gets every cell; other
// ranks get an empty vector.
std::vector<CellResult> run_sweep(const SweepOptions& o, const Sweep& s, int threads) {
  std::atomic<long> done{0}, claimed{0};
  std::atomic<bool> finished{false};
  const long total = s.cells * static_cast<long>(s.prompts.size());
  gpu::Progress progress("iclcert sweep", total, is_root() ? o.progress_line : gpu::ProgressMode(false), "checks");
  // The worker threads stop at the caller's token; the caller's receiver hears from
  // the calling thread only (the watcher draws the line alone: it has no control).
  const Control* caller = current_control();
  Control workers;
  if (caller) workers.cancel = caller->cancel;
  auto one_cell = [&](long cell) {
    std::string bytes;
    {
      ControlScope scope(caller ? &workers : nullptr);
      checkpoint();
      bytes = pack(run_cell(o, s, cell, done));
    }
    if (current_control()) report({"iclcert sweep", "checks", "", done.load(), total, false});  // the calling thread
    return bytes;
  };
  // One process: the checks done. Several: the cells handed out (rank 0 sees the counter only).
  std::thread watcher([&] {
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      progress.update(ranks() == 1 ? done.load() : claimed * static_cast<long>(s.prompts.size()));
    }
  });
  std::vector<std::string> packed;
  try {
    packed = evaluate_indexed(s.cells, threads, one_cell, &claimed);
  } catch (...) {
    finished = true;
    watcher.join();
    checkpoint();  // a cancelled worker's error is the cancellation
    throw;
  }
  finished = true;
  watcher.join();
  progress.update(ranks() == 1 ? done.load() : claimed * static_cast<long>(s.prompts.size()));  // the last count
  progress.finish();
  std::vector<CellResult> results;
  results.reserve(packed.size());
  for (std::size_t i = 0; i < packed.size(); ++i) results.push_back(unpack(s, static_cast<long>(i), packed[i]));
  return results;
}

std::string csv_text(const Sweep& s, const std::vector<CellResult>& results, const std::vector<std::string>& files) {
  std::string out = "cell";
  for (const auto& a : s.axes) out.append(",").append(a.name);
  for (const auto& a : s.axes) out.append(",").append(a.name).append("_exact");
  out += ",prompts,proved,refuted,undecided,refuting_prompt,counterexample,seconds\n";
  // Cell by cell with append: g++ 12 warns (-Wstringop-overflow, falsely) on the
  // inlined `"," + std::string` chains this was written with.
  auto cell = [&out](const std::string& v) { out.append(",").append(v); };
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CellResult& r = results[i];
    out.append(std::to_string(i));
    for (const auto& v : r.values) cell(decimal(v));
    for (const auto& v : r.values) cell(to_string(v));
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.6f", r.seconds);
    for (const long n : {static_cast<long>(s.prompts.size()), r.proved, r.refuted, r.undecided}) cell(std::to_string(n));
    cell(r.refuting_prompt >= 0 ? std::to_string(r.refuting_prompt) : "");
    cell(files[i]);
    cell(secs);
    out.append("\n");
  }
  return out;
}

Json json_doc(const SweepOptions& o, const Sweep& s, const std::vector<CellResult>& results,
              const std::vector<std::string>& files, double seconds) {
  Json grid = Json::array();
  for (const auto& a : s.axes)
    grid.push_back({{"name", a.name}, {"lo", to_string(a.lo)}, {"hi", to_string(a.hi)}, {"count", a.count}});
  Json source = o.prompt_list      ? Json{{"prompt_file", o.prompt_list_name}}
                : o.sample.empty() ? Json{{"prompt_file", o.prompt_file}}
                                   : Json{{"sample", o.sample}, {"seed", o.seed}, {"prompts", o.prompts}};
  Json cells = Json::array();
  long proved = 0, refuted = 0, undecided = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CellResult& r = results[i];
    Json coords = Json::object();
    for (std::size_t k = 0; k < s.axes.size(); ++k)
      coords[s.axes[k].name] = {{"decimal", nearest_double(r.values[k])}, {"exact", to_string(r.values[k])}};
    Json reasons = Json::object(), details = Json::object();
    for (const auto& [why, n] : r.undecided_reasons) reasons[why] = n;
    for (const auto& [why, text] : r.undecided_details) details[why] = text;
    cells.push_back({{"cell", i},
                     {"coordinates", coords},
                     {"proved", r.proved},
                     {"refuted", r.refuted},
                     {"undecided", r.undecided},
                     {"undecided_reasons", reasons},
                     {"undecided_details", details},
                     {"refuting_prompt", r.refuting_prompt >= 0 ? Json(r.refuting_prompt) : Json(nullptr)},
                     {"counterexample", files[i].empty() ? Json(nullptr) : Json(files[i])},
                     {"seconds", r.seconds}});
    proved += r.proved, refuted += r.refuted, undecided += r.undecided;
  }
  return {{"format", 1},
          {"command", "sweep"},
          {"claim", o.claim},
          {"options", {{"metric", o.metric}, {"prec", o.prec}, {"max_prec", o.max_prec}, {"arith", "interval"}}},
          {"model", o.model ? "the given model" : o.model_file.empty() ? "embedded default (examples/default_model.json)" : o.model_file},
          {"prompts", source},
          {"prompt_count", s.prompts.size()},
          {"grid", grid},
          {"totals", {{"cells", s.cells}, {"proved", proved}, {"refuted", refuted}, {"undecided", undecided}}},
          {"seconds", seconds},
          {"cells", cells}};
}

// --counterexamples DIR: the cells' files (DIR/cell_K.json) are named only once the
// cells are checked, so the folder is checked up front: writable, and holding none
// of the command's other outputs or inputs under a cell file's name, however spelt.
void check_counterexample_folder(const SweepOptions& o) {
  namespace fs = std::filesystem;
  if (o.counterexamples.empty()) return;
  if (::access(o.counterexamples.c_str(), W_OK | X_OK) != 0)
    throw InputError("--counterexamples " + o.counterexamples, "", std::string("cannot write into it: ") + std::strerror(errno));
  std::error_code ec;
  const fs::path folder = fs::canonical(o.counterexamples, ec);
  if (ec) return;
  const std::pair<const char*, std::string> others[] = {
      {"--csv", o.csv}, {"--json", o.json}, {o.prompt_flag.c_str(), o.prompt_file}, {"--model", o.model_file}};
  for (const auto& [option, path] : others) {
    if (path.empty() || path == "-") continue;
    const fs::path p = fs::weakly_canonical(path, ec);
    if (ec || p.parent_path() != folder) continue;
    const std::string name = p.filename().string();
    const bool cell_name = name.size() > 10 && name.starts_with("cell_") && name.ends_with(".json") &&
                           std::all_of(name.begin() + 5, name.end() - 5, [](char c) { return c >= '0' && c <= '9'; });
    if (cell_name)
      throw InputError(std::string(option) + " " + path, "",
                       "is in the --counterexamples folder under a name that a refuted cell's file takes: write it elsewhere");
  }
}

SweepResult run(const SweepOptions& o, Account& log) {
  if (o.claim != "A1" && o.claim != "A2" && o.claim != "E1" && o.claim != "margin")
    throw std::invalid_argument("--claim is required (A2, A1, E1 or margin)");
  if (o.metric != "fisher" && o.claim != "A2")
    throw std::invalid_argument("--metric " + o.metric + ": goes with --claim A2 only");
  if (o.grid.empty() || o.grid.size() > 4) throw std::invalid_argument("--grid: expected 1 to 4 axes");
  if (int(o.prompt_list.has_value()) + int(!o.prompt_file.empty()) + int(!o.sample.empty()) != 1)
    throw std::invalid_argument("iclcert sweep needs exactly one of " + o.prompt_flag + " F and --sample d,C,N");
  if (o.threads < 0 || o.threads > 1024) throw std::invalid_argument("--threads: expected 0 (every core) to 1024");
  PointCheck limits = point_check(o, 0);
  limits.claim = "A2";  // the flags' limits, whatever the claim
  check_point_limits(limits);

  Sweep s;
  std::set<std::string> names;
  for (const auto& axis : o.grid) {
    const std::string g = axis.name + "=" + to_string(axis.lo) + ":" + to_string(axis.hi) + ":" + std::to_string(axis.count);
    check_axis(axis, g);
    s.axes.push_back(axis);
    if (!names.insert(s.axes.back().name).second)
      throw std::invalid_argument("--grid " + g + ": " + s.axes.back().name + " is gridded twice");
    if (s.cells * s.axes.back().count > kMaxGridCells)
      throw std::invalid_argument("--grid: more than " + std::to_string(kMaxGridCells) + " cells in all");
    s.cells *= s.axes.back().count;
  }
  Outputs outputs({o.prompt_file, o.model_file});
  outputs.declare("--csv", o.csv);
  outputs.declare("--json", o.json);
  if (!o.counterexamples.empty() && !std::filesystem::is_directory(o.counterexamples))
    throw std::invalid_argument("--counterexamples " + o.counterexamples + ": not an existing directory");
  check_counterexample_folder(o);
  if (o.claim == "margin" && !o.counterexamples.empty())
    throw std::invalid_argument("--counterexamples: a margin sweep has no check claim to replay (use A2, A1 or E1)");

  s.model = o.model ? *o.model : o.model_file.empty() ? default_model() : read_model_file(o.model_file);
  const std::string model_name = o.model ? "the given model" : o.model_file.empty() ? "the embedded default model" : o.model_file;
  for (std::size_t l = 0; l < s.model.layers.size(); ++l)
    if (!std::holds_alternative<ReducedLayer<Rational>>(s.model.layers[l]))
      throw std::invalid_argument("--model " + model_name + ": layer " + std::to_string(l + 1) +
                                  " is not reduced; --grid sets reduced coefficients");
  if (!o.sample.empty()) {
    if (o.prompts < 1 || o.prompts > kMaxSweepChecks)
      throw std::invalid_argument(o.count_flag + " " + std::to_string(o.prompts) + ": expected 1 to " +
                                  std::to_string(kMaxSweepChecks));
    InstanceOptions in;
    in.sample = o.sample;
    in.seed = o.seed;
    SamplerOptions base = sampler_options(in);
    // Before drawing: the prompts are all held in memory, and the checks are the work.
    if (s.cells * o.prompts > kMaxSweepChecks)
      throw std::invalid_argument(o.count_flag + " " + std::to_string(o.prompts) + ": with the " + std::to_string(s.cells) +
                                  " cells of --grid, more than " + std::to_string(kMaxSweepChecks) + " checks");
    const std::uint64_t entries = static_cast<std::uint64_t>(o.prompts) * base.N * (base.d + base.C);
    if (entries > limit(Limit::sample_entries))
      throw std::invalid_argument(o.count_flag + " " + std::to_string(o.prompts) + ": count * N * (d + C) = " +
                                  std::to_string(entries) + " numbers to hold " + beyond_limit(Limit::sample_entries));
    for (long k = 0; k < o.prompts; ++k) {
      SamplerOptions at = base;
      at.seed = o.seed + static_cast<std::uint64_t>(k);
      s.prompts.push_back(sample_prompt(at));
    }
  } else if (o.prompt_list) {
    s.prompts = *o.prompt_list;
  } else {
    s.prompts = read_prompt_file(o.prompt_file);
  }
  if (s.prompts.empty()) throw std::invalid_argument("no prompts to check");
  if (s.cells * static_cast<long>(s.prompts.size()) > kMaxSweepChecks)
    throw std::invalid_argument("--grid and the prompts: more than " + std::to_string(kMaxSweepChecks) + " checks");
  require_model_fits(s.model, s.prompts[0].d, s.prompts[0].C, model_name,
                     o.prompt_list    ? o.prompt_list_name
                     : o.sample.empty() ? "the prompt file " + o.prompt_file
                                        : "--sample " + o.sample);

  // Default: every core, shared among the ranks of an MPI run on this machine.
  const int threads = static_cast<int>(
      o.threads > 0 ? o.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks_on_node()));
  log.print("iclcert sweep: claim %s over %ld cells x %zu prompts, %zu layers, %d threads%s\n", o.claim.c_str(),
            s.cells, s.prompts.size(), s.model.layers.size(), threads, ranks_note().c_str());
  const auto start = std::chrono::steady_clock::now();
  SweepResult out;
  out.cells = run_sweep(o, s, threads);
  const std::vector<CellResult>& results = out.cells;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!is_root()) return out;  // rank 0 writes the map

  std::vector<std::string> files(results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (o.counterexamples.empty() || results[i].counterexample.is_null()) continue;
    files[i] = (std::filesystem::path(o.counterexamples) / ("cell_" + std::to_string(i) + ".json")).string();
    outputs.declare("--counterexamples", files[i]);
    outputs.set(files[i], results[i].counterexample.dump(1) + "\n");
  }
  long proved = 0, refuted = 0, undecided = 0, refuted_cells = 0;
  for (const auto& r : results) proved += r.proved, refuted += r.refuted, undecided += r.undecided, refuted_cells += r.refuted > 0;
  log.print("  %ld proved, %ld refuted, %ld undecided; %ld of %ld cells have a refuting prompt; %.3f s\n", proved,
            refuted, undecided, refuted_cells, s.cells, seconds);
  out.csv = csv_text(s, results, files);
  out.json = json_doc(o, s, results, files, seconds);
  if (!o.csv.empty()) outputs.set(o.csv, out.csv);
  if (!o.json.empty()) outputs.set(o.json, out.json.dump(1) + "\n");
  checkpoint();
  outputs.commit();
  return out;
}

}  // namespace

SweepResult sweep(const SweepRequest& request, const Control& control) {
  ControlScope scope(&control);
  Account log(request.on_account);
  SweepResult out = run(request, log);
  out.account = log.text();
  return out;
}

SweepAxis parse_sweep_axis(const std::string& text) {
  auto bad = [&](const std::string& why) { return std::invalid_argument("--grid " + text + ": " + why); };
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw bad("expected NAME=LO:HI:COUNT");
  Axis a;
  a.name = text.substr(0, eq);
  check_axis_name(a.name, text);
  std::vector<std::string> parts;
  std::stringstream rest(text.substr(eq + 1));
  for (std::string part; std::getline(rest, part, ':');) parts.push_back(part);
  if (parts.size() != 3 || text.back() == ':') throw bad("expected NAME=LO:HI:COUNT");
  try {
    a.lo = parse_rational(parts[0]);
    a.hi = parse_rational(parts[1]);
  } catch (const std::invalid_argument& e) {
    throw bad(e.what());
  }
  if (a.lo > a.hi) throw bad("expected LO <= HI");
  const std::string& c = parts[2];
  if (c.empty() || c.size() > 9 || !std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    throw bad("COUNT: expected a whole number from 1 to " + std::to_string(kMaxGridCount));
  a.count = std::stol(c);
  check_axis(a, text);
  return a;
}

}  // namespace iclcert::api
