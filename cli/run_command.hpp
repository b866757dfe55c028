#pragma once

#include "api/run.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert run`: the recursion on one prompt, a per-layer table, an optional trace:
// option parsing and printing over api::run (api/run.hpp). Returns the action to
// run once the command line is parsed.
std::function<int()> register_run(CLI::App& app);

}  // namespace iclcert::cli
