// `iclcert batch`: the batched float path (gpu/) over a batch file or sampled
// prompts, with per-layer batch statistics and validation against enclosures
// (claim G1). Exit status: 0 done (and, with --validate, every float value within
// the stated bound of its enclosure), 1 some value beyond the stated bound,
// 2 bad input or usage.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

std::function<int()> register_batch(CLI::App& app);

}  // namespace iclcert::cli
