#include "cli/run_command.hpp"

#include "api/instance.hpp"

#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

struct RunOptions {
  InstanceOptions instance;
  std::vector<std::string> arith;
  std::string json_out, csv_out;
};

int run(const RunOptions& o) {
  api::RunRequest rq;
  rq.instance = o.instance;
  for (const auto& a : o.arith) rq.arithmetics.push_back(parse_arithmetic(a));
  rq.json_out = o.json_out, rq.csv_out = o.csv_out;
  rq.on_account = [](const std::string& piece) { std::fputs(piece.c_str(), stdout); };
  return api::run(rq).exit_status;
}

}  // namespace

std::function<int()> register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run the recursion on one prompt and print the metrics per layer");
  add_instance_options(*cmd, o->instance);
  cmd->add_option("--arith", o->arith,
                  "double | rational | mpfr:BITS | interval:BITS | interval-mpfi:BITS; repeatable (default: double and "
                  "mpfr:256)");
  cmd->add_option("--json", o->json_out, "Write the trace (docs/formats.md) to this file (- for standard output)");
  cmd->add_option("--csv", o->csv_out, "Write the printed table as CSV (docs/formats.md) to this file, every --arith");
  return [o] { return run(*o); };
}

}  // namespace iclcert::cli
