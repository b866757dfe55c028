// A test-only `iclcert` with the fuzz command alone, so that the command's exit
// codes and messages are tested whatever else the main binary carries.
#include "cli/fuzz_command.hpp"
#include "io/input_error.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"iclcert (fuzz only, for tests)"};
  app.require_subcommand(1, 1);
  auto action = iclcert::cli::register_fuzz(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return action();
  } catch (const iclcert::InputError& e) {
    std::fprintf(stderr, "iclcert: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "iclcert: %s\n", e.what());
    return 2;
  }
}
