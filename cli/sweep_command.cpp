#include "cli/sweep_command.hpp"

#include "api/instance.hpp"
#include "api/sweep.hpp"
#include "cli/vocabulary.hpp"
#include "io/limits.hpp"

#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

// The flags: the request, with --grid as given and the progress flags.
struct SweepOptions : api::SweepRequest {
  std::vector<std::string> grid_text;
  bool progress = false, no_progress = false;
};

int sweep(SweepOptions& o) {
  if (o.claim.empty()) throw std::invalid_argument("--claim is required (A2, A1, E1 or margin)");
  for (const auto& g : o.grid_text) o.grid.push_back(parse_sweep_axis(g));
  o.progress_line = gpu::ProgressMode::of_flags(o.progress, o.no_progress);
  o.on_account = [](const std::string& piece) {
    std::fputs(piece.c_str(), stdout);
    std::fflush(stdout);  // before the progress lines on stderr
  };
  return api::sweep(o).exit_status;
}

}  // namespace

std::function<int()> register_sweep(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand("sweep", "Map certified verdicts of a claim over a grid of reduced coefficients");
  cmd->add_option("--claim", o->claim, "A2 | A1 | E1 | margin (the sign of the final probe margin)")
      ->check(CLI::IsMember({"A1", "A2", "E1", "margin"}));
  cmd->add_option("--metric", o->metric, "A2: fisher | gap")->check(CLI::IsMember({"fisher", "gap"}))->capture_default_str();
  cmd->add_option("--model", o->model_file, "A reduced model (JSON); default: the embedded default model");
  cmd->add_option("--grid", o->grid_text, "NAME=LO:HI:COUNT (NAME: beta, gamma, alpha, alpha_label; 1 to 4 distinct axes): "
                  "the training coefficient NAME at every layer takes LO + (HI - LO) i / (COUNT - 1)");
  cmd->add_option("--sample", o->sample, "Draw prompts d,C,N (prompt k with seed S + k)");
  auto* count = cmd->add_option("--count", o->prompts, "With --sample: how many prompts")
                    ->capture_default_str()
                    ->check(CLI::Range(1L, kMaxSweepChecks));  // on the text as given: CLI11 saturates 2^63 first
  auto* old_count = add_old_spelling(*cmd, "--prompts", o->prompts, count, "", CLI::Range(1L, kMaxSweepChecks));
  cmd->add_option("--seed", o->seed, "With --sample: the first prompt's seed")->check(seed_check())->capture_default_str();
  auto* prompt = cmd->add_option("--prompt", o->prompt_file, "A prompt or batch file instead of --sample");
  auto* old_prompt = add_old_spelling(*cmd, "--prompt-file", o->prompt_file, prompt);
  cmd->add_option("--csv", o->csv, "Write one row per cell (docs/formats.md)");
  cmd->add_option("--json", o->json, "Write the sweep as JSON (docs/formats.md)");
  cmd->add_option("--counterexamples", o->counterexamples,
                  "Write each refuted cell's first counterexample here, as a verdict file for check --replay");
  cmd->add_option("--threads", o->threads,
                  "Worker threads per process (default: every core; under mpiexec, shared among a machine's ranks)");
  add_progress_flags(*cmd, o->progress, o->no_progress);
  cmd->add_option("--prec", o->prec, "Starting precision in bits")->capture_default_str();
  cmd->add_option("--max-prec", o->max_prec, "Precision escalation stops here")->capture_default_str();
  return [o, old_count, old_prompt] {
    if (old_count->count() > 0) o->count_flag = "--prompts";  // messages name the options as given
    if (old_prompt->count() > 0) o->prompt_flag = "--prompt-file";
    return sweep(*o);
  };
}

}  // namespace iclcert::cli
