#include "api/fuzz.hpp"

#include "api/account.hpp"
#include "api/arithmetic.hpp"
#include "api/csv_table.hpp"
#include "io/input_error.hpp"
#include "io/model_io.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"
#include "properties/catalog.hpp"
#include "properties/user_weights.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

namespace iclcert::api {
namespace {

using namespace iclcert::properties;

// The property with a stop between cases: once cancelled, a case fails at once,
// which ends RapidCheck's run (an exception would too, as a failure of the case,
// after shrinking it); the call then throws Cancelled. Progress: the cases checked.
PropertyInfo cancellable(const PropertyInfo& p, int cases) {
  PropertyInfo c = p;
  auto done = std::make_shared<long>(0);
  c.check = [check = p.check, what = "iclcert fuzz " + p.id, done, cases](const FuzzCase& fc, const std::string& arith) {
    const Control* control = current_control();
    if (control && control->cancel.cancelled()) return CaseVerdict::failed("cancelled");
    CaseVerdict v = check(fc, arith);
    if (control && control->progress) control->progress({what, "cases", "", std::min<long>(++*done, cases), cases, false});
    return v;
  };
  return c;
}

constexpr const char* kEquivarianceId = "equivariance";
// --cases at most (docs/formats.md, "Limits"): 2 * 10^9 ran out of memory before the
// first case, and 10^6 already take hours.
constexpr int kMaxFuzzCases = 1'000'000;
constexpr const char* kEquivarianceSentence =
    "a user's model (--model) commutes with feature, label and token permutations within the tolerance its "
    "weights warrant; with E3, each dense matrix's distance from span{M(theta)}";


}  // namespace

std::string fuzz_property_list() {
  Account log;
  for (const auto& p : catalogue()) log.print("%-20s %s\n", p.id.c_str(), p.sentence.c_str());
  log.print("%-20s %s\n", kEquivarianceId, kEquivarianceSentence);
  return log.text();
}

namespace {

// The files a fuzz run reads: its counterexample file must not be one of them.
std::vector<std::string> inputs(const FuzzRequest& o) { return {o.model_file, o.prompt_file}; }

// A run's output files, declared before any work (each checked against the
// inputs and the other by file identity) and written together, or none.
struct FuzzOutputs {
  explicit FuzzOutputs(const FuzzRequest& o) : files(inputs(o)) {
    files.declare("--counterexample", o.counterexample_out);
    files.declare("--csv", o.csv_out);
    files.declare("--e3-csv", o.e3_csv_out);
  }
  Outputs files;
  bool counterexample = false;
};

// Gives the counterexample to --counterexample's file, or prints it: a command
// writes no file the user did not name.
void save(const Counterexample& ce, const FuzzRequest& o, FuzzOutputs& out, Account& log) {
  const std::string text = counterexample_to_json(ce).dump(1) + "\n";
  if (o.counterexample_out.empty()) {
    log.print("counterexample (give --counterexample FILE to save it, then iclcert fuzz --replay FILE):\n%s",
              text.c_str());
    return;
  }
  out.files.set(o.counterexample_out, text);
  out.counterexample = true;
}

void commit(const FuzzRequest& o, FuzzOutputs& out, Account& log) {
  checkpoint();  // a cancelled run writes nothing
  out.files.commit();
  if (out.counterexample && o.counterexample_out != "-")
    log.print("counterexample written to %s; re-run it with: iclcert fuzz --replay %s\n", o.counterexample_out.c_str(),
              o.counterexample_out.c_str());
}

int run_catalogue_property(const PropertyInfo& p, const FuzzRequest& o, std::uint64_t seed, Account& log) {
  const std::string arith = o.arith.empty() ? p.default_arith : o.arith;
  log.print("property %s: %s\nseed %llu, %d cases, arithmetic %s\n", p.id.c_str(),
            p.sentence.c_str(), static_cast<unsigned long long>(seed), o.cases, arith.c_str());
  FuzzOutputs files(o);
  const FuzzOutcome out = run_property(cancellable(p, o.cases), arith, FuzzParams{seed, o.cases, o.shrink});
  checkpoint();  // a cancelled run's "failure" is no counterexample
  if (!out.held) {
    log.print("FAILED after %d passing cases: %s\n", out.passed, out.detail.c_str());
    if (out.counterexample) {
      log.print("shrunk in %d steps to d=%d, C=%d, N=%d, %zu layers, %s\n", out.shrink_steps,
                out.counterexample->prompt.d, out.counterexample->prompt.C, out.counterexample->prompt.N,
                out.counterexample->model.layers.size(), out.counterexample->g.kind().c_str());
      save(Counterexample{p.id, arith, out.detail, seed, 0, *out.counterexample}, o, files, log);
    }
  }
  commit(o, files, log);
  log.print("summary: %s, %d cases held, %d discarded, %.2f s, seed %llu\n",
            out.held ? (out.gave_up ? "gave up" : "held") : "counterexample found", out.passed, out.discarded,
            out.seconds, static_cast<unsigned long long>(seed));
  if (!out.held) return 1;
  if (out.gave_up) {
    log.print("too many discarded cases: %s\n", out.detail.c_str());
    return 3;
  }
  return 0;
}

int run_all(const FuzzRequest& o, std::uint64_t seed, Account& log) {
  if (!o.arith.empty()) throw std::invalid_argument("--property all runs each property in its default arithmetic: drop --arith");
  int worst = 0;
  for (const auto& p : catalogue()) {
    const int rc = run_catalogue_property(p, o, seed, log);
    if (rc == 1 || (rc == 3 && worst == 0)) worst = rc;
    log.print("\n");
  }
  return worst;
}

long equivariance_bits(const std::string& arith) {
  if (arith.empty()) return 128;
  const Arithmetic a = parse_arithmetic(arith);  // the syntax and the precision limit of every --arith
  if (a.kind == Arithmetic::Kind::double_) return 0;
  if (a.kind == Arithmetic::Kind::mpfr) return a.bits;
  throw std::invalid_argument("--arith " + arith + ": property equivariance runs in double or mpfr:BITS (default mpfr:128)");
}

double weights_tolerance(const FuzzRequest& o) {
  if (o.tolerance > 0) return o.tolerance;
  if (o.weights == "float32") return kFloat32Tolerance;
  if (o.weights == "float64") return kFloat64Tolerance;
  throw std::invalid_argument("--weights " + o.weights + ": expected float32 or float64");
}

bool has_dense(const Model& m) {
  for (const auto& l : m.layers)
    if (std::holds_alternative<DenseLayer<Rational>>(l)) return true;
  return false;
}

void parse_sizes(const std::string& text, UserWeightsOptions& u) {
  char c1 = 0, c2 = 0;
  std::istringstream in(text);
  if (!(in >> u.d >> c1 >> u.C >> c2 >> u.N) || c1 != ',' || c2 != ',' || !in.eof() || u.d < 1 || u.d > 1024 ||
      u.C < 2 || u.C > 256 || u.N < 1 || u.N > 4096)
    throw std::invalid_argument("--sample " + text + ": expected d,C,N with 1 <= d <= 1024, 2 <= C <= 256, 1 <= N <= 4096");
}

int run_equivariance(const FuzzRequest& o, std::uint64_t seed, Account& log) {
  if (o.model_file.empty() && !o.model)
    throw std::invalid_argument("--property equivariance checks a model of yours: give --model M.json");
  FuzzOutputs files(o);
  Model model = o.model ? *o.model : read_model_file(o.model_file);
  const std::string model_name = o.model_file.empty() ? "the given model" : o.model_file;
  UserWeightsOptions u;
  u.seed = seed;
  u.cases = o.cases;
  u.bits = equivariance_bits(o.arith);
  u.tolerance = weights_tolerance(o);
  if (!o.prompt_file.empty() || o.prompt) {
    auto prompts = o.prompt ? std::vector<Prompt>{*o.prompt} : read_prompt_file(o.prompt_file);
    if (prompts.size() != 1) throw InputError(o.prompt_file, "prompts", "expected a single prompt here");
    u.prompt = prompts[0];
    u.d = u.prompt->d;
    u.C = u.prompt->C;
    u.N = u.prompt->N;
  } else if (!o.sample.empty()) {
    parse_sizes(o.sample, u);
  } else if (has_dense(model)) {
    throw std::invalid_argument(model_name +
                                ": the model has dense layers, whose (d+C) x (d+C) matrices fix only d + C: give "
                                "--sample d,C,N (for example --sample 3,2,8) or --prompt FILE");
  } else {
    u.d = 4;
    u.C = 3;
    u.N = 12;
  }
  require_model_fits(model, u.d, u.C, model_name,
                     o.prompt_file.empty() && !o.prompt ? (o.sample.empty() ? std::string("the default sizes 4,3,12") : "--sample " + o.sample)
                                           : "the prompt " + o.prompt_file);
  fill_split(model, u.d, u.C);  // the counterexample file records the split
  const std::string arith = u.bits ? "mpfr:" + std::to_string(u.bits) : "double";
  log.print("property equivariance: %s\nmodel %s, d=%d, C=%d, N=%d, seed %llu, %d cases, arithmetic %s, tolerance %.3g\n",
            kEquivarianceSentence, model_name.c_str(), u.d, u.C, u.N, static_cast<unsigned long long>(seed),
            o.cases, arith.c_str(), u.tolerance);
  const auto start = std::chrono::steady_clock::now();
  const UserWeightsReport r = check_user_weights(model, u);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The two printed tables, one CSV each, so that every column keeps one type:
  // --csv, E1 (per kind of permutation: its largest violation and where; a kind
  // with a single element has nothing to permute and no row), and --e3-csv, E3 (per
  // dense matrix: its residual and the projection's theta). Layers from 1, heads from 0.
  CsvTable e1({"kind", "relative", "exceeds", "case", "layer", "row", "column", "permutation"});
  for (const auto& w : r.worst) {
    if (w.case_index < 0) continue;
    e1.row().text(to_string(w.kind)).number(w.relative).integer(w.relative > r.tolerance).integer(w.case_index);
    e1.integer(static_cast<long long>(w.layer + 1)).integer(w.row).integer(w.col);
    e1.text(to_string(w.kind == PermutationKind::feature ? w.g.features
                      : w.kind == PermutationKind::label ? w.g.labels
                                                         : w.g.tokens));
  }
  CsvTable e3({"layer", "head", "matrix", "residual", "theta1", "theta2", "theta3", "theta4", "theta5", "theta6"});
  for (const auto& p : r.projections) {
    e3.row().integer(static_cast<long long>(p.layer + 1)).integer(static_cast<long long>(p.head)).text(p.matrix);
    e3.number(p.relative_residual);
    for (const double th : p.theta) e3.number(th);
  }
  if (!o.csv_out.empty()) files.files.set(o.csv_out, e1.text());
  if (!o.e3_csv_out.empty()) files.files.set(o.e3_csv_out, e3.text());

  log.print("\nE1: largest violation |layer(g.s) - g.layer(s)| / |layer update|, per kind of permutation\n");
  for (const auto& w : r.worst) {
    if (w.case_index < 0) {
      log.print("  %-8s  (none: that factor has a single element)\n", to_string(w.kind));
      continue;
    }
    log.print("  %-8s  %.3e  %s  (case %d, layer %zu, row %d, column %d, permutation %s)\n", to_string(w.kind),
              w.relative, w.relative > r.tolerance ? "EXCEEDS" : "ok     ", w.case_index, w.layer + 1, w.row, w.col,
              to_string(w.kind == PermutationKind::feature ? w.g.features
              : w.kind == PermutationKind::label ? w.g.labels
              : w.g.tokens)
              .c_str());
  }
  if (!r.projections.empty()) {
    log.print("\nE3: projection of each dense matrix onto span{M(theta)} (group averaging)\n");
    log.print("  layer head matrix  relative residual  theta of the projection\n");
    for (const auto& p : r.projections)
      log.print("  %5zu %4zu %-6s  %.3e          (%.6g, %.6g, %.6g, %.6g, %.6g, %.6g)\n", p.layer + 1, p.head,
                p.matrix.c_str(), p.relative_residual, p.theta[0], p.theta[1], p.theta[2], p.theta[3], p.theta[4],
                p.theta[5]);
  }
  const KindWorst& worst = r.largest();
  const bool held = r.held();
  if (!held) {
    log.print("\nnot equivariant: a %s permutation moves the output by %.3e of the layer's update (tolerance %.3g)\n",
              to_string(worst.kind), worst.relative, r.tolerance);
    save(Counterexample{kEquivarianceId, arith,
                        std::string(to_string(worst.kind)) + " permutation, relative violation " +
                            std::to_string(worst.relative),
                        seed, r.tolerance, FuzzCase{worst.prompt, model, worst.g}},
         o, files, log);
  }
  commit(o, files, log);
  log.print("summary: %s, %d cases, 0 discarded, %.2f s, seed %llu\n", held ? "held" : "counterexample found",
            r.cases, seconds, static_cast<unsigned long long>(seed));
  return held ? 0 : 1;
}

int replay(const FuzzReplayRequest& o, Account& log) {
  const Counterexample ce = read_counterexample_file(o.file);
  log.print("replaying %s: property %s, arithmetic %s, seed %llu\n", o.file.c_str(), ce.property.c_str(),
            ce.arith.c_str(), static_cast<unsigned long long>(ce.seed));
  try {
    parse_arithmetic(ce.arith);  // a file gets the syntax and the precision limit of --arith too
  } catch (const std::invalid_argument& e) {
    throw InputError(o.file, "arith", e.what());
  }
  if (ce.property == kEquivarianceId) {
    const double tol = o.tolerance > 0 ? o.tolerance : ce.tolerance > 0 ? ce.tolerance : kFloat64Tolerance;
    const double v = measure_case(ce.c.prompt, ce.c.model, ce.c.g, equivariance_bits(ce.arith));
    log.print("relative violation %.3e under %s (tolerance %.3g): %s\n", v, ce.c.g.kind().c_str(), tol,
              v > tol ? "still fails" : "holds now");
    return v > tol ? 1 : 0;
  }
  const PropertyInfo& p = find_property(ce.property);
  require_arith(p, ce.arith);
  const CaseVerdict v = p.check(ce.c, ce.arith);
  switch (v.kind) {
    case CaseVerdict::Kind::held: log.print("the case holds now\n"); return 0;
    case CaseVerdict::Kind::discarded: log.print("the case is discarded: %s\n", v.detail.c_str()); return 3;
    case CaseVerdict::Kind::failed: break;
  }
  log.print("still fails: %s\n", v.detail.c_str());
  return 1;
}

int run(const FuzzRequest& o, Account& log) {
  if (o.property.empty()) throw std::invalid_argument("fuzz: give --property NAME (see iclcert fuzz --list), or --replay FILE");
  if (o.cases < 1 || o.cases > kMaxFuzzCases)
    throw std::invalid_argument("--cases " + std::to_string(o.cases) + ": expected 1 to " + std::to_string(kMaxFuzzCases));
  if (!o.arith.empty()) parse_arithmetic(o.arith);  // its syntax and the precision limit, before any work
  { const FuzzOutputs check(o); }  // both outputs checked before any work, and against each other
  if ((!o.csv_out.empty() || !o.e3_csv_out.empty()) && o.property != kEquivarianceId)
    throw std::invalid_argument(std::string(o.csv_out.empty() ? "--e3-csv" : "--csv") +
                                " goes with --property equivariance (the command that prints tables)");
  const std::uint64_t seed = o.seed;
  if (o.property == kEquivarianceId) return run_equivariance(o, seed, log);
  if (!o.model_file.empty() || o.model || !o.prompt_file.empty() || o.prompt || !o.sample.empty())
    throw std::invalid_argument("--model, --prompt and --sample go with --property equivariance");
  if (o.property == "all") return run_all(o, seed, log);
  return run_catalogue_property(find_property(o.property), o, seed, log);
}


}  // namespace

FuzzResult fuzz(const FuzzRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  Account log(request.on_account);
  FuzzResult r;
  r.exit_status = run(request, log);
  checkpoint();
  r.account = log.text();
  return r;
}

FuzzResult fuzz_replay(const FuzzReplayRequest& request, const Control& control) {
  ControlScope scope(&control);
  checkpoint();
  Account log;
  FuzzResult r;
  r.exit_status = replay(request, log);
  r.account = log.text();
  return r;
}

}  // namespace iclcert::api
