#include "cli/fuzz_command.hpp"

#include "api/fuzz.hpp"
#include "api/instance.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

struct FuzzOptions {
  api::FuzzRequest request;
  std::string replay;
  bool seed_given = false, list = false, no_shrink = false;
};

std::uint64_t clock_seed() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) % 1000000007ULL;
}

int run(const FuzzOptions& o) {
  api::FuzzResult r;
  if (o.list) {
    r.account = api::fuzz_property_list();
  } else if (!o.replay.empty()) {
    r = api::fuzz_replay({o.replay, o.request.tolerance});
  } else {
    api::FuzzRequest request = o.request;
    request.shrink = !o.no_shrink;
    if (!o.seed_given) request.seed = clock_seed();
    // Printed as it is written: a long run shows its header (and its seed) first.
    request.on_account = [](const std::string& piece) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    };
    return api::fuzz(request).exit_status;
  }
  std::fputs(r.account.c_str(), stdout);
  return r.exit_status;
}

}  // namespace

std::function<int()> register_fuzz(CLI::App& app) {
  auto o = std::make_shared<FuzzOptions>();
  CLI::App* cmd = app.add_subcommand("fuzz", "Property-based fuzzing of the recursion and of a model's equivariance");
  cmd->add_option("--property", o->request.property, "Property id (see --list), 'all', or 'equivariance' with --model");
  cmd->add_option("--cases", o->request.cases, "Number of cases that must hold")->capture_default_str();
  cmd->add_option_function<std::uint64_t>(
      "--seed", [o](std::uint64_t s) { o->request.seed = s, o->seed_given = true; }, "Seed (default: from the clock; printed)")
      ->check(seed_check());
  cmd->add_option("--arith", o->request.arith, "Arithmetic (per property; default: the property's own)");
  cmd->add_flag("--list", o->list, "List the properties, one per line: id and sentence");
  cmd->add_option("--replay", o->replay, "Re-run the counterexample saved in FILE");
  cmd->add_option("--counterexample", o->request.counterexample_out,
                  "Save a counterexample to this file (- for standard output); default: print it");
  cmd->add_flag("--no-shrink", o->no_shrink, "Report the first failing case as drawn");
  cmd->add_option("--model", o->request.model_file, "equivariance: the model to check (docs/formats.md)");
  cmd->add_option("--prompt", o->request.prompt_file, "equivariance: a prompt (fixes d, C, N; checked first)");
  cmd->add_option("--sample", o->request.sample, "equivariance: draw prompts of sizes d,C,N");
  cmd->add_option("--csv", o->request.csv_out, "equivariance: write its E1 table (per kind of permutation) as CSV (docs/formats.md)");
  cmd->add_option("--e3-csv", o->request.e3_csv_out, "equivariance: write its E3 table (per dense matrix) as CSV (docs/formats.md)");
  cmd->add_option("--weights", o->request.weights, "equivariance: float32 | float64, the precision the weights were trained "
                                           "in (tolerance 1e-3 | 1e-10, e3nn's)")
      ->capture_default_str();
  cmd->add_option("--tolerance", o->request.tolerance, "equivariance: relative tolerance (overrides --weights)")
      ->check(finite_number_check([](double v) { return v > 0; }, "a finite number > 0", "POSITIVE"));
  return [o] { return run(*o); };
}

}  // namespace iclcert::cli
