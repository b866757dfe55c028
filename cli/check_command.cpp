#include "cli/check_command.hpp"

#include "claims/alignment.hpp"
#include "claims/escalation.hpp"
#include "claims/equivariance.hpp"
#include "claims/robustness.hpp"
#include "claims/separation.hpp"
#include "cli/arithmetic.hpp"
#include "cli/instance.hpp"
#include "io/input_error.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

using claims::ClaimReport;
using claims::Verdict;

struct CheckOptions {
  InstanceOptions instance;
  std::string claim, arith = "interval", layers, metric = "fisher", json_out, replay;
  long prec = 128, max_prec = 1024;
  std::vector<std::string> box;
  std::string ball, confidence = "0.99";
  int samples = 200, budget = 256;
};

const char* statement_of(const std::string& claim) {
  if (claim == "A1") return "F^{t+1} > F^t at every layer (beta = 0, gamma > 0, alpha > 0, alpha' >= 0, balanced)";
  if (claim == "A2") return "the separation metric does not decrease: M^{t+1} >= M^t at every layer";
  if (claim == "E1") return "every layer commutes with feature, label and token permutations";
  if (claim == "E2") return "the full form with reduced parameters equals the reduced recursion";
  if (claim == "C1") return "E[g] > 0 over the prompt distribution (with the accuracy P(a > 0)), at a confidence level";
  if (claim == "R1") return "M^{t+1} >= M^t at every layer, for every coefficient in the box / prompt in the ball";
  return "";
}

claims::LayerRange parse_layers(const std::string& text) {
  claims::LayerRange r;
  if (text.empty()) return r;
  const auto colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("");
    std::size_t used = 0;
    r.first = std::stoi(text.substr(0, colon), &used);
    r.last = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    throw std::invalid_argument("--layers " + text + ": expected T0:T1 (for example 0:6)");
  }
  if (r.first < 0 || r.last <= r.first) throw std::invalid_argument("--layers " + text + ": expected 0 <= T0 < T1");
  return r;
}

// Runs the claim once in T (at the working precision the caller set).
Rational parse_number(const std::string& option, const std::string& text) {
  try {
    return parse_rational(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(option + " " + text + ": " + e.what());
  }
}

void report_progress(int done, int total) {
  if (done % 20 == 0 || done == total) std::fprintf(stderr, "\r  %d / %d prompts", done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

template <RigorousScalar T>
ClaimReport check_once(const CheckOptions& o, const Prompt& p, const Model& m) {
  if (o.claim == "C1") {
    if constexpr (ScalarTraits<T>::exact) {
      throw std::invalid_argument("C1 runs the softmax kernel, which needs an interval arithmetic (--arith interval)");
    } else {
      claims::AlignmentOptions a;
      a.sampler = sampler_options(o.instance);
      a.samples = o.samples;
      a.delta = 1 - parse_number("--confidence", o.confidence);
      if (!(a.delta > 0 && a.delta < 1)) throw std::invalid_argument("--confidence: expected a level in (0, 1)");
      return claims::check_alignment<T>(m, a, report_progress);
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
      r.budget = o.budget;
      return claims::check_robustness<T>(p, m, r);
    }
    if (s.strict && s.metric != claims::SeparationMetric::fisher)
      throw claims::ClaimInputError("A1 is about the Fisher ratio: --metric gap goes with --claim A2");
    if (s.strict) claims::require_a1_hypotheses(p, m);
    return claims::check_separation<T>(o.claim, p, m, s);
  }
  if (o.claim == "E1") return claims::check_equivariance<T>(p, m, o.instance.seed);
  return claims::check_reduction<T>(p, m);
}

ClaimReport check(const CheckOptions& o, const Prompt& p, const Model& m, const Arithmetic& a) {
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

Json verdict_json(const ClaimReport& r, const CheckOptions& o, const Prompt& p, const Model& m,
                  const std::string& arith, double seconds) {
  Json evidence = r.evidence;
  evidence["arithmetic"] = arith;
  evidence["seconds"] = seconds;
  evidence["options"] = {{"layers", o.layers}, {"metric", o.metric}, {"seed", o.instance.seed},
                         {"prec", o.prec}, {"max_prec", o.max_prec}, {"arith", o.arith},
                         {"box", o.box}, {"ball", o.ball}, {"budget", o.budget},
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

int run_check(const CheckOptions& o, const Prompt& p, const Model& m, const std::string& source) {
  const Arithmetic a = checking_arithmetic(o);
  std::printf("claim %s: %s\n", o.claim.c_str(), statement_of(o.claim));
  std::printf("instance: %s (d=%d, C=%d, N=%d), %zu layers, %s kernel\n", source.c_str(), p.d, p.C, p.N,
              m.layers.size(), m.kernel == Kernel::softmax ? "softmax" : "linear");
  const auto start = std::chrono::steady_clock::now();
  ClaimReport r;
  try {
    r = check(o, p, m, a);
  } catch (const claims::ClaimInputError& e) {
    throw std::invalid_argument(e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& line : r.lines) std::printf("  %s\n", line.c_str());
  const std::string arith = a.kind == Arithmetic::Kind::rational
                                ? "rational"
                                : o.arith + ":" + std::to_string(r.precision_bits);
  std::printf("verdict: %s  (%s, %.3f s)\n", claims::to_string(r.verdict), arith.c_str(), seconds);
  if (r.verdict == Verdict::undecided && r.more_precision_may_help)
    std::printf("  (enclosures still too wide at %ld bits: raise --max-prec)\n", r.precision_bits);
  if (!o.json_out.empty()) {
    write_file_atomically(o.json_out, verdict_json(r, o, p, m, arith, seconds).dump(1) + "\n");
    std::printf("verdict written to %s\n", o.json_out.c_str());
  }
  return claims::exit_status(r.verdict);
}

// Re-checks a verdict file: a refuted verdict from its counterexample alone.
int replay(CheckOptions o) {
  const Json j = load_json_file(o.replay);
  JsonReader root(o.replay, j);
  root.expect_object({"format", "claim", "verdict", "precision_bits", "evidence", "counterexample"});
  expect_format_1(root);
  o.claim = root.field("claim").one_of({"A1", "A2", "E1", "E2", "C1", "R1"});
  const std::string recorded = root.field("verdict").one_of({"proved", "refuted", "undecided"});
  const JsonReader evidence = root.field("evidence");
  if (evidence.has("options")) {
    const JsonReader opts = evidence.field("options");
    if (opts.has("layers")) o.layers = opts.field("layers").string();
    if (opts.has("metric")) o.metric = opts.field("metric").one_of({"fisher", "gap"});
    if (opts.has("arith")) o.arith = opts.field("arith").string();
    if (opts.has("box"))
      for (std::size_t k = 0; k < opts.field("box").expect_array(0, 64); ++k)
        o.box.push_back(opts.field("box").element(k).string());
    if (opts.has("ball")) o.ball = opts.field("ball").string();
    if (opts.has("sample")) o.instance.sample = opts.field("sample").string();
    if (opts.has("balanced")) o.instance.balanced = opts.field("balanced").boolean();
    if (opts.has("margin")) o.instance.margin = opts.field("margin").string();
    if (opts.has("samples")) o.samples = static_cast<int>(opts.field("samples").integer(1, 10000000));
    if (opts.has("confidence")) o.confidence = opts.field("confidence").string();
    if (opts.has("budget")) o.budget = static_cast<int>(opts.field("budget").integer(1, 1 << 30));
    if (opts.has("seed")) o.instance.seed = static_cast<std::uint64_t>(opts.field("seed").integer(0, LONG_MAX));
  }
  o.prec = std::max(o.prec, root.field("precision_bits").integer(0, kMaxMpfrBits));
  o.max_prec = std::max(o.max_prec, o.prec);
  const JsonReader source = recorded == "refuted" ? root.field("counterexample") : evidence.field("instance");
  const Prompt p = parse_prompts(source.field("prompt").value(), o.replay + " (" + source.path() + ".prompt)").at(0);
  const Model m = parse_model(source.field("model").value(), o.replay + " (" + source.path() + ".model)");
  std::printf("replaying %s (recorded verdict: %s)\n", o.replay.c_str(), recorded.c_str());
  const int status = run_check(o, p, m, o.replay);
  const bool same = claims::to_string(status == 0 ? Verdict::proved : (status == 1 ? Verdict::refuted : Verdict::undecided)) == recorded;
  std::printf("replay %s the recorded verdict\n", same ? "reproduces" : "DOES NOT reproduce");
  return status;
}

int check_command(const CheckOptions& o) {
  if (!o.replay.empty()) return replay(o);
  if (o.claim.empty()) throw std::invalid_argument("--claim is required (A1, A2, E1, E2, C1, R1), or --replay FILE");
  if (o.samples < 1 || o.samples > 10000000) throw std::invalid_argument("--samples: expected 1 to 10^7");
  if (o.budget < 1) throw std::invalid_argument("--budget: expected at least 1");
  if (o.prec < kMinMpfrBits || o.prec > o.max_prec || o.max_prec > kMaxMpfrBits)
    throw std::invalid_argument("--prec and --max-prec: expected " + std::to_string(kMinMpfrBits) +
                                " <= prec <= max-prec <= " + std::to_string(kMaxMpfrBits));
  Instance in = load_instance(o.instance);
  if (o.claim == "C1") in.prompt_source = std::to_string(o.samples) + " prompts of " + in.prompt_source;
  return run_check(o, in.prompt, in.model, in.prompt_source);
}

}  // namespace

std::function<int()> register_check(CLI::App& app) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "Certify a claim of the paper on an instance: proved, refuted or undecided");
  cmd->add_option("--claim", o->claim, "A1 | A2 | E1 | E2 | C1 | R1")
      ->check(CLI::IsMember({"A1", "A2", "E1", "E2", "C1", "R1"}));
  add_instance_options(*cmd, o->instance);
  cmd->add_option("--arith", o->arith, "interval (Arb) | interval-mpfi | rational")->capture_default_str();
  cmd->add_option("--prec", o->prec, "Starting precision in bits")->capture_default_str();
  cmd->add_option("--max-prec", o->max_prec, "Precision escalation stops here")->capture_default_str();
  cmd->add_option("--layers", o->layers, "Check transitions T0 -> T0+1 ... T1-1 -> T1 only (T0:T1)");
  cmd->add_option("--metric", o->metric, "A2: fisher | gap")->check(CLI::IsMember({"fisher", "gap"}))->capture_default_str();
  cmd->add_option("--box", o->box, "R1: a coefficient range NAME=LO:HI (beta, gamma, alpha, alpha_label); repeatable");
  cmd->add_option("--ball", o->ball, "R1: every prompt within this l_inf distance of the given one");
  cmd->add_option("--budget", o->budget, "R1: sub-boxes to evaluate at most")->capture_default_str();
  cmd->add_option("--samples", o->samples, "C1: prompts to draw (with --sample d,C,N)")->capture_default_str();
  cmd->add_option("--confidence", o->confidence, "C1: confidence level 1 - delta")->capture_default_str();
  cmd->add_option("--json", o->json_out, "Write the verdict file (docs/formats.md)");
  cmd->add_option("--replay", o->replay, "Re-check a verdict file");
  return [o] { return check_command(*o); };
}

}  // namespace iclcert::cli
