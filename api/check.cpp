#include "api/check.hpp"

#include "claims/alignment.hpp"
#include "claims/escalation.hpp"
#include "claims/equivariance.hpp"
#include "claims/robustness.hpp"
#include "claims/separation.hpp"
#include "api/arithmetic.hpp"
#include "api/distributed_alignment.hpp"
#include "api/distributed_paving.hpp"
#include "api/instance.hpp"
#include "api/verdict_file.hpp"
#include "gpu/progress.hpp"
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

namespace iclcert::api {
namespace {

using claims::ClaimReport;
using claims::Verdict;

// The options of one run with what it adds: its progress line and R1's map.
struct Setup : CheckOptions {
  gpu::ProgressMode line = gpu::ProgressMode::never;
  std::shared_ptr<claims::Paving> map_regions;  // R1 with map: receives the paving
};

// "at every layer, 1 to 6" or "at layers 1 to 1 only, of 6 (--layers 0:1)": which
// transitions t -> t+1 a separation claim was checked at (layer t+1 compares
// M^{t+1} with M^t).
std::string layers_checked(const std::string& layers, std::size_t depth) {
  const claims::LayerRange r = claims::resolve(parse_layers(layers), depth);
  const std::string of = std::to_string(depth);
  if (r.first >= r.last) return "at no layer (--layers " + layers + " lies beyond the model's " + of + " layers)";
  if (r.first == 0 && r.last == static_cast<int>(depth)) return "at every layer, 1 to " + of;
  return "at layers " + std::to_string(r.first + 1) + " to " + std::to_string(r.last) + " only, of " + of +
         " (--layers " + layers + ")";
}

std::string metric_name(const CheckOptions& o) {
  return o.metric == "gap" ? "M = R, the gap ratio" : "M = F, the Fisher ratio";
}

// The headline of a verdict and of its replay: exactly what is checked, from the
// options (layers, metric, box, ball, samples) and the model's depth.
std::string statement_of(const CheckOptions& o, const Model& m) {
  const std::size_t depth = m.layers.size();
  if (o.claim == "A1")
    return "F^{t+1} > F^t (F the Fisher ratio) " + layers_checked(o.layers, depth) +
           "; hypotheses, checked first: beta = 0, gamma > 0, alpha > 0, alpha' >= 0 at every layer, the probe not "
           "a key, balanced classes";
  if (o.claim == "A2") return "M^{t+1} >= M^t (" + metric_name(o) + ") " + layers_checked(o.layers, depth);
  if (o.claim == "R1") {
    std::string s = "M^{t+1} >= M^t (" + metric_name(o) + ") " + layers_checked(o.layers, depth) + ", for every";
    std::string ranges;
    for (const auto& text : o.box) {
      const claims::BoxDimension b = claims::parse_box(text);
      ranges += (ranges.empty() ? " " : " and ") + b.coefficient + " in [" + to_string(b.lo) + ", " + to_string(b.hi) + "]";
    }
    if (!ranges.empty()) s += ranges + " (the training rows' coefficient, the same at every reduced layer)";
    if (!o.ball.empty())
      s += std::string(ranges.empty() ? "" : " and every") + " prompt within l_inf distance " + o.ball +
           " of the given one (training points and probe)";
    return s;
  }
  if (o.claim == "E1")
    return "every layer commutes with feature, label and token permutations: exactly from the weights, and on the "
           "instance under transpositions and a composition drawn with seed " + std::to_string(o.instance.seed);
  if (o.claim == "E2")
    return "the full form with kappa = (beta,0,0,0,gamma,0), nu = (alpha,0,0,0,alpha',0) equals the reduced "
           "recursion at every layer (exact identity, then both runs on the instance)";
  return "statistical: E[g] > 0 for g the probe alignment after the last layer, over prompts drawn by the sampler (" +
         o.instance.sample + (o.instance.balanced ? ", balanced" : "") + ", margin " + o.instance.margin + "), from " +
         std::to_string(o.samples) + " prompts with seeds " + std::to_string(o.instance.seed) + " to " +
         std::to_string(o.instance.seed + static_cast<std::uint64_t>(o.samples) - 1) +
         "; the bounds printed hold jointly with probability >= " + o.confidence +
         " over the draw: a statistical verdict, not a certificate";
}

// Runs the claim once in T (at the working precision the caller set).
Rational parse_number(const std::string& option, const std::string& text) {
  try {
    return parse_rational(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(option + " " + text + ": " + e.what());
  }
}

gpu::ProgressMode progress_mode(const Setup& o) { return is_root() ? o.line : gpu::ProgressMode(false); }

// C1's progress line: claims/alignment.hpp and distributed_alignment.hpp report
// through a plain function pointer, so the line of the check under way is here.
thread_local gpu::Progress* c1_progress = nullptr;  // one per thread: calls may run side by side
void report_progress(int done, int /*total*/) {
  if (c1_progress) c1_progress->update(done);
}

// R1's progress line: sub-boxes of the budget, with the volumes decided so far;
// its time left is an upper estimate (a paving may finish before its budget).
struct PavingProgressPrinter {
  gpu::Progress line;
  PavingProgressPrinter(const Setup& o, long budget) : line("iclcert check R1", budget, progress_mode(o), "sub-boxes") {
    line.estimate_is_upper_bound();
  }
  void operator()(const claims::PavingProgress& g) {
    char detail[120];
    std::snprintf(detail, sizeof detail, "volume proved %.4f refuted %.4f undecided %.4f", nearest_double(g.proved),
                  nearest_double(g.refuted), nearest_double(g.undecided));
    line.update(g.evaluated, detail);
  }
  // The summary line, also after an error; a cancelled call (or a receiver that
  // throws) reports no end, and a destructor must not throw.
  ~PavingProgressPrinter() {
    try {
      line.finish();
    } catch (...) {
    }
  }
};

template <RigorousScalar T>
ClaimReport check_once(const Setup& o, const Prompt& p, const Model& m) {
  if (o.claim == "C1") {
    if constexpr (ScalarTraits<T>::exact) {
      throw std::invalid_argument("C1 runs the softmax kernel, which needs an interval arithmetic (--arith interval)");
    } else {
      claims::AlignmentOptions a;
      a.sampler = sampler_options(o.instance);
      a.samples = static_cast<int>(o.samples);
      a.delta = 1 - parse_number("--confidence", o.confidence);
      if (!(a.delta > 0 && a.delta < 1)) throw std::invalid_argument("--confidence: expected a level in (0, 1)");
      gpu::Progress line("iclcert check C1", a.samples, progress_mode(o));
      c1_progress = &line;
      struct Reset {
        ~Reset() { c1_progress = nullptr; }
      } reset;
      // Under mpiexec the samples split across the ranks (reduced in order: the same bytes).
      ClaimReport r = claims::check_alignment<T>(m, a, report_progress, distributed_alignment_sampling(report_progress));
      line.finish();
      return r;
    }
  }
  if (o.claim == "A1" || o.claim == "A2" || o.claim == "R1") {
    claims::SeparationOptions s;
    s.strict = o.claim == "A1";
    s.metric = o.metric == "gap" ? claims::SeparationMetric::gap : claims::SeparationMetric::fisher;
    s.layers = parse_layers(o.layers);
    if (o.claim == "R1") {
      claims::RobustnessOptions r;
      for (const auto& b : o.box) r.box.push_back(claims::parse_box(b));
      if (!o.ball.empty()) r.ball = parse_number("--ball", o.ball);
      if (r.ball && *r.ball < 0) throw std::invalid_argument("--ball: expected a radius >= 0");
      r.separation = s;
      r.budget = static_cast<int>(o.budget);
      r.form = claims::parse_form(o.form);
      r.map = o.map;
      r.time_limit = o.time_limit;
      r.breadth_first = o.paving == "breadth_first";
      r.monotone = !r.breadth_first;
      r.paving = o.map_regions.get();
      PavingProgressPrinter progress(o, r.budget);
      r.progress = std::ref(progress);
      // --map under mpiexec: the sub-boxes split across the ranks (same paving, same bytes).
      return claims::check_robustness<T>(p, m, r, o.map ? distributed_box_evaluator<T>(p, m, r) : claims::BoxEvaluator{});
    }
    if (s.strict && s.metric != claims::SeparationMetric::fisher)
      throw claims::ClaimInputError("A1 is about the Fisher ratio: --metric gap goes with --claim A2");
    if (s.strict) claims::require_a1_hypotheses(p, m);
    return claims::check_separation<T>(o.claim, p, m, s);
  }
  if (o.claim == "E1") return claims::check_equivariance<T>(p, m, o.instance.seed);
  return claims::check_reduction<T>(p, m);
}

ClaimReport check(const Setup& o, const Prompt& p, const Model& m, const Arithmetic& a) {
  if (a.kind == Arithmetic::Kind::rational) {
    require_runnable<Rational>(p, m);
    return check_once<Rational>(o, p, m);
  }
  auto at_precision = [&]<RigorousScalar T>() {
    return claims::with_escalation(o.prec, o.max_prec, [&] { return check_once<T>(o, p, m); });
  };
  if (a.kind == Arithmetic::Kind::interval) return at_precision.template operator()<ArbBall>();
  return at_precision.template operator()<MpfiInterval>();
}

bool statistical(const CheckOptions& o) { return o.claim == "C1"; }

Json verdict_json(const ClaimReport& r, const Setup& o, const Prompt& p, const Model& m,
                  const std::string& arith, double seconds) {
  Json evidence = r.evidence;
  // E1 names its per-permutation checks "instance", the name of the instance here.
  if (evidence.contains("instance")) {
    evidence["instance_checks"] = evidence["instance"];
    evidence.erase("instance");
  }
  evidence["headline"] = statement_of(o, m);
  evidence["verdict_kind"] = statistical(o) ? "statistical" : "certified";
  evidence["arithmetic"] = arith;
  evidence["seconds"] = seconds;
  evidence["options"] = {{"layers", o.layers}, {"metric", o.metric}, {"seed", o.instance.seed},
                         {"prec", o.prec}, {"max_prec", o.max_prec}, {"arith", o.arith},
                         {"box", o.box}, {"ball", o.ball}, {"budget", o.map_regions && o.map_regions->stopped_at_time_limit ? o.map_regions->evaluated : o.budget},
                         {"map", o.map}, {"form", o.form}, {"paving", o.paving},
                         {"sample", o.instance.sample}, {"balanced", o.instance.balanced},
                         {"margin", o.instance.margin}, {"samples", o.samples}, {"confidence", o.confidence}};
  evidence["instance"] = {{"prompt", prompt_to_json(p)}, {"model", model_to_json(m)}};
  return {{"format", 1},
          {"claim", r.claim},
          {"verdict", claims::to_string(r.verdict)},
          {"precision_bits", r.precision_bits},
          {"evidence", evidence},
          {"counterexample", r.counterexample}};
}

Arithmetic checking_arithmetic(const CheckOptions& o) {
  if (o.arith == "rational") return parse_arithmetic("rational");
  if (o.arith == "interval" || o.arith == "interval-mpfi") return parse_arithmetic(o.arith + ":" + std::to_string(o.prec));
  throw std::invalid_argument("--arith " + o.arith + ": a check needs a rigorous arithmetic: interval (Arb, the "
                              "default), interval-mpfi, or rational (exact; linear kernel only)");
}

std::string arithmetic_text(const CheckOptions& o, const Arithmetic& a, long bits) {
  return a.kind == Arithmetic::Kind::rational ? "rational" : o.arith + ":" + std::to_string(bits);
}

struct Checked {
  ClaimReport report;
  Json verdict;  // the verdict file's content
};

// Runs the check and prints its account; the verdict file is written by the caller.
Checked run_check(const Setup& o, const Prompt& p, const Model& m, const std::string& source, Account& log) {
  const Arithmetic a = checking_arithmetic(o);
  log.print("claim %s: %s\n", o.claim.c_str(), statement_of(o, m).c_str());
  log.print("instance: %s (d=%d, C=%d, N=%d), %zu layers, %s kernel\n", source.c_str(), p.d, p.C, p.N,
              m.layers.size(), m.kernel == Kernel::softmax ? "softmax" : "linear");
  const auto start = std::chrono::steady_clock::now();
  ClaimReport r;
  try {
    r = check(o, p, m, a);
  } catch (const claims::ClaimInputError& e) {
    throw std::invalid_argument(e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& line : r.lines) log.print("  %s\n", line.c_str());
  const std::string arith = arithmetic_text(o, a, r.precision_bits);
  const std::string kind = statistical(o) ? " (statistical, confidence " + o.confidence + ")" : "";
  log.print("verdict: %s%s  (%s, %.3f s)\n", claims::to_string(r.verdict), kind.c_str(), arith.c_str(), seconds);
  if (r.verdict == Verdict::undecided && r.more_precision_may_help)
    log.print("  (enclosures still too wide at %ld bits: raise --max-prec)\n", r.precision_bits);
  Json verdict = verdict_json(r, o, p, m, arith, seconds);
  return {std::move(r), std::move(verdict)};
}

// The same limits for the flags as parse_verdict_file applies to a replayed file.
void check_limits(const CheckOptions& o) {
  if (o.samples < 1 || o.samples > kMaxCheckSamples)
    throw std::invalid_argument("--samples " + std::to_string(o.samples) + ": expected 1 to " +
                                std::to_string(kMaxCheckSamples));
  if (o.budget < 1 || o.budget > kMaxCheckBudget)
    throw std::invalid_argument("--budget " + std::to_string(o.budget) + ": expected 1 to " +
                                std::to_string(kMaxCheckBudget));
  if (o.max_prec > kMaxMpfrBits)
    throw std::invalid_argument("--max-prec " + std::to_string(o.max_prec) + ": expected at most " +
                                std::to_string(kMaxMpfrBits) + " bits");
  if (o.max_prec > max_check_precision_bits())
    throw std::invalid_argument("--max-prec " + std::to_string(o.max_prec) + ": " + beyond_limit(Limit::precision_bits));
  if (o.prec < kMinMpfrBits || o.prec > o.max_prec)
    throw std::invalid_argument("--prec and --max-prec: expected " + std::to_string(kMinMpfrBits) +
                                " <= prec <= max-prec <= " + std::to_string(max_check_precision_bits()));
  parse_layers(o.layers);  // junk is refused whatever the claim
}

// A replay takes its options from the file, and says which it took.
void apply_recorded(const VerdictFile& v, CheckOptions& o, Account& log) {
  const RecordedOptions& r = v.options;
  std::string taken;
  auto take = [&](const char* name, const auto& from, auto& into, const std::string& shown) {
    if (!from) return;
    into = *from;
    taken += (taken.empty() ? "" : ", ") + std::string(name) + " " + shown;
  };
  auto quoted = [](const std::optional<std::string>& s) { return s ? Json(*s).dump() : std::string(); };
  take("layers", r.layers, o.layers, quoted(r.layers));
  take("metric", r.metric, o.metric, r.metric.value_or(""));
  take("arith", r.arith, o.arith, r.arith.value_or(""));
  take("box", r.box, o.box, r.box ? Json(*r.box).dump() : "");
  take("ball", r.ball, o.ball, quoted(r.ball));
  take("budget", r.budget, o.budget, std::to_string(r.budget.value_or(0)));
  take("map", r.map, o.map, r.map.value_or(false) ? "true" : "false");
  // A file without `form` was written before the centred form: plain evaluation.
  o.form = r.form.value_or("plain");
  if (r.form) taken += (taken.empty() ? "" : ", ") + std::string("form ") + *r.form;
  // A file without `paving` was written before issue 26's order and monotonicity test.
  o.paving = r.paving.value_or("breadth_first");
  if (r.paving) taken += (taken.empty() ? "" : ", ") + std::string("paving ") + *r.paving;
  take("sample", r.sample, o.instance.sample, quoted(r.sample));
  take("balanced", r.balanced, o.instance.balanced, r.balanced.value_or(false) ? "true" : "false");
  take("margin", r.margin, o.instance.margin, quoted(r.margin));
  take("samples", r.samples, o.samples, std::to_string(r.samples.value_or(0)));
  take("confidence", r.confidence, o.confidence, quoted(r.confidence));
  take("seed", r.seed, o.instance.seed, std::to_string(r.seed.value_or(0)));
  take("max_prec", r.max_prec, o.max_prec, std::to_string(r.max_prec.value_or(0)));
  // Start at the precision the verdict was decided at: there the recomputation is
  // the recorded one (theory/claims.md, "Replay").
  if (v.precision_bits > 0) o.prec = v.precision_bits;
  o.max_prec = std::max(std::min(o.max_prec, max_check_precision_bits()), o.prec);
  log.print("options from %s (evidence.options): %s\n", v.file.c_str(), taken.empty() ? "none (the defaults)" : taken.c_str());
  log.print("  and precision_bits %ld: the replay starts there%s\n", v.precision_bits,
              v.precision_bits == 0 ? " (exact arithmetic)" : "");
}

// Re-checks a verdict file: the verdict and every recorded number. A refuted
// verdict runs from its counterexample alone; C1 (statistical) re-draws its prompts
// from the recorded seed and sampler options.
ReplayResult replay_file(const ReplayRequest& rq, Account& log) {
  const std::string& file = rq.verdict ? rq.verdict_name : rq.verdict_file;
  const std::vector<std::string> inputs = rq.verdict ? std::vector<std::string>{} : std::vector<std::string>{file};
  check_output_path("--json", rq.json_out, inputs);  // before any work, not after it
  const VerdictFile v = parse_verdict_file(rq.verdict ? *rq.verdict : load_json_file(file), file);
  Setup o;
  o.line = rq.progress_line;
  o.claim = v.claim;
  const std::string recorded = claims::to_string(v.verdict);
  log.print("replaying %s (recorded verdict: %s%s), instance from its %s%s\n", file.c_str(), recorded.c_str(),
            statistical(o) ? ", statistical" : "", v.instance_field.c_str(),
            statistical(o) ? " (the model) and prompts re-drawn from the seeds" : "");
  apply_recorded(v, o, log);
  const std::string source = file + " (" + v.instance_field + ")";
  Checked c;
  Prompt p;
  try {
    p = v.prompt ? *v.prompt : sample_prompt(sampler_options(o.instance));
    c = run_check(o, p, v.model, source, log);
  } catch (const std::invalid_argument& e) {
    throw InputError(file, v.instance_field, e.what());
  }
  std::vector<std::string> differences;
  if (c.report.verdict != v.verdict)
    differences.push_back("verdict: recorded " + recorded + ", recomputed " + claims::to_string(c.report.verdict));
  if (c.report.precision_bits != v.precision_bits)
    differences.push_back("precision_bits: recorded " + std::to_string(v.precision_bits) + ", decided at " +
                          std::to_string(c.report.precision_bits));
  const RecordedResults now = recorded_results(c.verdict["evidence"], c.verdict["counterexample"], file);
  ResultComparison cmp = compare_results(v.recorded, now);
  differences.insert(differences.end(), cmp.differences.begin(), cmp.differences.end());
  // A refuted file's evidence.instance is not the replay's input: it must be the counterexample's.
  const std::vector<std::string> instance = instance_differences(v, p, v.model);
  differences.insert(differences.end(), instance.begin(), instance.end());
  // A recorded enclosure that overlaps the recomputed one without containing it may
  // still hold the value: it does when a thinner enclosure, at more bits, fits inside.
  long bits = c.report.precision_bits;
  const std::size_t thinner = cmp.overlapping.size();
  std::vector<std::string> pending = std::move(cmp.overlapping);
  while (!pending.empty() && differences.empty() && bits > 0 && bits * 2 <= o.max_prec) {
    checkpoint();
    bits *= 2;
    Setup at = o;
    at.prec = at.max_prec = bits;
    const Arithmetic a = checking_arithmetic(at);
    const Json j = verdict_json(check(at, p, v.model, a), at, p, v.model, arithmetic_text(at, a, bits), 0);
    ResultComparison next = compare_results(v.recorded, recorded_results(j["evidence"], j["counterexample"], file), &pending);
    differences.insert(differences.end(), next.differences.begin(), next.differences.end());
    pending = std::move(next.overlapping);
  }
  for (const auto& path : pending)
    differences.push_back(path + ": the recorded enclosure overlaps the recomputed one but does not contain it (up to " +
                          std::to_string(bits) + " bits)");
  if (!rq.json_out.empty()) {
    write_output("--json", rq.json_out, c.verdict.dump(1) + "\n", inputs);
    log.print("verdict written to %s\n", rq.json_out.c_str());
  }
  ReplayResult out;
  out.verdict = std::move(c.verdict);
  if (differences.empty()) {
    log.print("replay reproduces the recorded verdict, its %zu recorded numbers (each recorded enclosure "
              "contains the recomputed one) and its %zu other recorded results\n",
              v.recorded.enclosures.size(), v.recorded.exact.size());
    if (!v.refuted_instance.empty())
      log.print("  and evidence.instance is the counterexample's prompt and model%s\n",
                v.claim == "R1" && v.options.box && !v.options.box->empty() ? " (but for the boxed coefficients)" : "");
    if (thinner > 0)
      log.print("  (%zu recorded enclosures were thinner than the recomputation at %ld bits, and contain it at %ld bits)\n",
                thinner, c.report.precision_bits, bits);
    out.reproduced = true;
    out.exit_status = 0;
    return out;
  }
  log.print("replay DOES NOT reproduce the recorded verdict file (%zu differences):\n", differences.size());
  for (std::size_t k = 0; k < differences.size() && k < 20; ++k) log.print("  %s\n", differences[k].c_str());
  if (differences.size() > 20) log.print("  ... and %zu more\n", differences.size() - 20);
  out.differences = std::move(differences);
  out.exit_status = 1;
  return out;
}
// R1 --map's region list (docs/formats.md, "R1 maps") as CSV and JSON texts.
void set_map_texts(const Setup& o, CheckResult& out) {
  for (const auto& b : o.box) out.map_coefficients.push_back(claims::parse_box(b).coefficient);
  const claims::Paving& paving = *o.map_regions;
  const claims::ClaimReport& r = out.report;
  out.map_csv = claims::regions_csv(paving, out.map_coefficients);
  Json box = Json::array();
  for (const auto& b : o.box) {
    const claims::BoxDimension d = claims::parse_box(b);
    box.push_back({{"coefficient", d.coefficient}, {"lo", to_string(d.lo)}, {"hi", to_string(d.hi)}});
  }
  const Json header = {{"format", 1}, {"command", "check"}, {"claim", "R1"}, {"verdict", claims::to_string(r.verdict)},
                       {"form", o.form}, {"metric", o.metric}, {"layers", o.layers}, {"budget", o.budget},
                       {"precision_bits", r.precision_bits}, {"box", box}, {"ball", o.ball}};
  out.map_json = claims::regions_json(paving, out.map_coefficients, header).dump(1) + "\n";
}

// --arith interval:BITS, run's spelling, is --arith interval --prec BITS (the
// escalation starts there); with a --prec of another value it is refused.
void split_arith_bits(CheckOptions& o, bool prec_given) {
  const auto colon = o.arith.find(':');
  if (colon == std::string::npos) return;
  const std::string kind = o.arith.substr(0, colon);
  if (kind != "interval" && kind != "interval-mpfi")
    throw std::invalid_argument("--arith " + o.arith + ": a check runs in interval[:BITS] (Arb, the default), "
                                "interval-mpfi[:BITS] or rational");
  const Arithmetic a = parse_arithmetic(o.arith);  // the syntax and the limit of every --arith BITS
  if (prec_given && a.bits != o.prec)
    throw std::invalid_argument("--arith " + o.arith + " and --prec " + std::to_string(o.prec) +
                                ": two starting precisions, give one");
  o.arith = kind;
  o.prec = a.bits;
}

// --map and its outputs go with R1, the files with --map.
void check_map_options(const CheckOptions& o, const CheckRequest& rq) {
  if ((o.map || o.form != CheckOptions{}.form) && o.claim != "R1")
    throw std::invalid_argument("--map and --form apply to --claim R1");
  if ((!rq.map_csv.empty() || !rq.map_json.empty()) && !o.map)
    throw std::invalid_argument("--map-csv and --map-json write the region list of --map: add --map");
  if (o.map && o.box.empty()) throw std::invalid_argument("--map paves a --box: give one");
  if (o.time_limit != 0 && !o.map) throw std::invalid_argument("--time-limit stops the paving of --map: add --map");
}

Setup point_options(const PointCheck& c) {
  Setup o;
  o.claim = c.claim;
  o.metric = c.metric;
  o.instance.sample = c.sample;
  o.instance.seed = c.seed;
  o.prec = c.prec;
  o.max_prec = c.max_prec;
  return o;
}

// The instance of a request: as given, else from its files, sampler or the default.
Instance request_instance(const CheckRequest& rq, const CheckOptions& o) {
  if (!rq.prompt && !rq.model) {
    Instance in = load_instance(o.instance);
    if (o.claim == "C1") in.prompt_source = std::to_string(o.samples) + " prompts of " + in.prompt_source;
    return in;
  }
  return load_instance(o.instance, GivenInstance{rq.prompt, rq.model, rq.prompt_source, rq.model_source});
}

}  // namespace

CheckResult check(const CheckRequest& rq, const Control& control) {
  ControlScope scope(&control);
  static const std::set<std::string> kClaims = {"A1", "A2", "E1", "E2", "C1", "R1"};
  if (!kClaims.contains(rq.options.claim))
    throw std::invalid_argument("claim " + rq.options.claim + ": expected A1, A2, E1, E2, C1 or R1");
  Setup o;
  static_cast<CheckOptions&>(o) = rq.options;
  o.line = rq.progress_line;
  split_arith_bits(o, rq.prec_given);
  check_limits(o);
  check_map_options(o, rq);
  // Every output checked before any work (against the inputs and one another, by
  // file identity), and all written together at the end, or none.
  Outputs outputs({o.instance.prompt_file, o.instance.model_file});
  outputs.declare("--json", rq.json_out);
  outputs.declare("--map-csv", rq.map_csv);
  outputs.declare("--map-json", rq.map_json);
  if (o.map) o.map_regions = std::make_shared<claims::Paving>();
  const Instance in = request_instance(rq, o);
  Account log(rq.on_account);
  Checked c = run_check(o, in.prompt, in.model, in.prompt_source, log);
  CheckResult out;
  out.exit_status = claims::exit_status(c.report.verdict);
  out.report = std::move(c.report);
  out.verdict = std::move(c.verdict);
  out.map = o.map_regions;
  if (o.map) set_map_texts(o, out);
  checkpoint();  // a cancelled call writes nothing
  if (is_root()) {  // under mpiexec every rank has the verdict; rank 0 writes it
    if (!rq.json_out.empty()) outputs.set(rq.json_out, out.verdict.dump(1) + "\n");
    if (!rq.map_csv.empty()) outputs.set(rq.map_csv, out.map_csv);
    if (!rq.map_json.empty()) outputs.set(rq.map_json, out.map_json);
    outputs.commit();
    if (!rq.json_out.empty()) log.print("verdict written to %s\n", rq.json_out.c_str());
  }
  out.account = log.text();
  return out;
}

ReplayResult replay(const ReplayRequest& rq, const Control& control) {
  ControlScope scope(&control);
  Account log(rq.on_account);
  ReplayResult out = replay_file(rq, log);
  out.account = log.text();
  return out;
}

void check_point_limits(const PointCheck& c) { check_limits(point_options(c)); }

ClaimReport check_point(const PointCheck& c, const Prompt& p, const Model& m) {
  const Setup o = point_options(c);
  return check(o, p, m, checking_arithmetic(o));
}

Json point_verdict_file(const PointCheck& c, const ClaimReport& r, const Prompt& p, const Model& m, double seconds) {
  const Setup o = point_options(c);
  return verdict_json(r, o, p, m, arithmetic_text(o, checking_arithmetic(o), r.precision_bits), seconds);
}

}  // namespace iclcert::api
