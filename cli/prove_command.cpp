#include "cli/prove_command.hpp"

#include "api/prove.hpp"

#include <cstdio>
#include <memory>

namespace iclcert::cli {

std::function<int()> register_prove(CLI::App& app) {
  auto o = std::make_shared<api::ProveRequest>();
  CLI::App* cmd = app.add_subcommand("prove", "Prove a one-layer lemma with the Z3 SMT solver (theory/smt_lemmas.md)");
  cmd->add_option("--lemma", o->lemma, "A1, A1u, A1u-layers, A2, E1, or A1-false (a deliberately false variant)")
      ->required()
      ->check(CLI::IsMember(proofs::lemma_names()));
  cmd->add_option("--classes", o->classes, "Classes C for A1 and A1-false (2, 3 or 4)")->capture_default_str()->check(CLI::Range(2, 4));
  cmd->add_option("--timeout", o->timeout_s, "Seconds per solver query")->capture_default_str();
  cmd->add_option("--export", o->export_dir, "Write every query as DIR/NAME.smt2 (SMT-LIB2)");
  cmd->add_option("--json", o->json_out, "Write the verdict file (docs/formats.md) here");
  cmd->add_option("--csv", o->csv_out, "Write the printed table of queries as CSV (docs/formats.md) here");
  return [o] {
    o->on_account = [](const std::string& piece) { std::fputs(piece.c_str(), stdout); };
    return api::prove(*o).exit_status;
  };
}

}  // namespace iclcert::cli
