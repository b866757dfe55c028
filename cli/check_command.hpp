#pragma once

#include "api/check.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert check --claim ID`: a certified verdict (proved / refuted / undecided) for
// one claim of spec section 6 on one instance, box or sample; `--replay FILE`
// re-checks a verdict file. Option parsing and printing over api::check and
// api::replay (api/check.hpp).
std::function<int()> register_check(CLI::App& app);

// The flags of `iclcert check`: what is checked (api::CheckOptions) and what the
// command line adds: its files, the replayed file and the progress line's flags.
struct CheckOptions : api::CheckOptions {
  std::string json_out, replay, map_csv, map_json;
  bool progress = false, no_progress = false;  // --progress, --no-progress
};

}  // namespace iclcert::cli
