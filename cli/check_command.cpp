#include "cli/check_command.hpp"

#include "api/check.hpp"
#include "claims/enclosure_form.hpp"
#include "cli/vocabulary.hpp"
#include "io/limits.hpp"
#include "io/output_file.hpp"

#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

// Every option of a replay comes from the file: a flag beside --replay would be
// ignored or would change what was checked, so it is refused.
void refuse_flags_beside_replay(const CLI::App& cmd) {
  for (const CLI::Option* opt : cmd.get_options()) {
    // Its name as given: CLI11 names a hidden option (an old spelling) "".
    const std::string name = opt->get_lnames().empty() ? "-" + opt->get_snames().front() : "--" + opt->get_lnames().front();
    if (opt->count() > 0 && name != "--replay" && name != "--json" && name != "--progress" && name != "--no-progress")
      throw std::invalid_argument(name + " cannot be given with --replay: a replay takes every option "
                                  "from the verdict file, and prints them");
  }
}

// The account as it comes, so that a long check shows its headline first.
void print_account(const std::string& piece) { std::fputs(piece.c_str(), stdout); }

int check_command(const CheckOptions& o, const CLI::App& cmd) {
  // Before any work, not after it.
  check_output_path("--json", o.json_out, {o.instance.prompt_file, o.instance.model_file, o.replay});
  if (!o.replay.empty()) {
    refuse_flags_beside_replay(cmd);
    api::ReplayRequest rq;
    rq.verdict_file = o.replay, rq.json_out = o.json_out;
    rq.progress_line = gpu::ProgressMode::of_flags(o.progress, o.no_progress);
    rq.on_account = print_account;
    return api::replay(rq).exit_status;
  }
  if (o.claim.empty()) throw std::invalid_argument("--claim is required (A1, A2, E1, E2, C1, R1), or --replay FILE");
  api::CheckRequest rq;
  rq.options = o;
  rq.prec_given = cmd.get_option("--prec")->count() > 0;
  rq.json_out = o.json_out, rq.map_csv = o.map_csv, rq.map_json = o.map_json;
  rq.progress_line = gpu::ProgressMode::of_flags(o.progress, o.no_progress);
  rq.on_account = print_account;
  return api::check(rq).exit_status;
}

}  // namespace

std::function<int()> register_check(CLI::App& app) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "Certify a claim of the paper on an instance: proved, refuted or undecided");
  cmd->add_option("--claim", o->claim, "A1 | A2 | E1 | E2 | C1 | R1")
      ->check(CLI::IsMember({"A1", "A2", "E1", "E2", "C1", "R1"}));
  add_instance_options(*cmd, o->instance);
  cmd->add_option("--arith", o->arith,
                  "interval[:BITS] (Arb) | interval-mpfi[:BITS] | rational; BITS: the starting precision, as --prec")
      ->capture_default_str();
  cmd->add_option("--prec", o->prec, "Starting precision in bits")->capture_default_str();
  cmd->add_option("--max-prec", o->max_prec,
                  "Precision escalation stops here (at most 65536 bits; raise with ICLCERT_MAX_PRECISION_BITS)")
      ->capture_default_str();
  cmd->add_option("--layers", o->layers, "Check transitions T0 -> T0+1 ... T1-1 -> T1 only (T0:T1)");
  cmd->add_option("--metric", o->metric, "A2: fisher | gap")->check(CLI::IsMember({"fisher", "gap"}))->capture_default_str();
  cmd->add_option("--box", o->box, "R1: a coefficient range NAME=LO:HI (beta, gamma, alpha, alpha_label), each name at most once; it ranges over "
                  "the training rows' coefficient at every reduced layer (a probe row's own coefficients keep their "
                  "values); repeatable for distinct names");
  cmd->add_option("--ball", o->ball, "R1: every prompt within this l_inf distance of the given one");
  // Ranges checked on the text as given: CLI11 alone saturates 2^63 to 2^63 - 1 first.
  cmd->add_option("--budget", o->budget, "R1: sub-boxes to evaluate at most (1 to 2^20)")
      ->capture_default_str()
      ->check(CLI::Range(1L, kMaxCheckBudget));
  cmd->add_flag("--map", o->map, "R1: pave the whole box into proved, refuted and undecided regions, to the budget");
  cmd->add_option("--form", o->form, "R1: the enclosure form where plain evaluation is undecided: taylor2 (second-order Taylor models over the box, theory/affine_forms.md) | taylor3 (third order: tighter, dearer per sub-box) | affine | centred (mean-value form) | plain")
      ->check(CLI::IsMember(std::vector<std::string>(claims::kEnclosureFormNames.begin(), claims::kEnclosureFormNames.end())))
      ->capture_default_str();
  cmd->add_option("--time-limit", o->time_limit, "R1 --map: stop paving after this many seconds (the rest undecided; "
                  "the verdict file records the budget that reproduces the paving)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--map-csv", o->map_csv, "R1 --map: write the region list as CSV (docs/formats.md)");
  cmd->add_option("--map-json", o->map_json, "R1 --map: write the region list and volume fractions as JSON");
  auto* count = cmd->add_option("--count", o->samples, "C1: prompts to draw (with --sample d,C,N; 1 to 10^7)")
                    ->capture_default_str()
                    ->check(CLI::Range(1L, kMaxCheckSamples));
  add_old_spelling(*cmd, "--samples", o->samples, count, "", CLI::Range(1L, kMaxCheckSamples));
  cmd->add_option("--confidence", o->confidence, "C1: joint confidence level 1 - delta of the bounds")->capture_default_str();
  cmd->add_option("--json", o->json_out, "Write the verdict file (docs/formats.md)");
  add_progress_flags(*cmd, o->progress, o->no_progress);
  cmd->add_option("--replay", o->replay,
                  "Re-check a verdict file: its verdict and recorded numbers, with its options (exit 0 reproduced, 1 not)");
  return [o, cmd] { return check_command(*o, *cmd); };
}

}  // namespace iclcert::cli
