// `iclcert compare`: a trained model against the recursion extracted from it (or
// any two models of the same depth) on a batch of prompts, on the batch path, with
// per-depth deviation, prediction agreement and accuracy, the classical baselines
// (numerics/baselines.hpp), agreement with the trainer's own exported predictions,
// and certified enclosures for the first K prompts (gpu/batch_compare.hpp).
// Exit status: 0 done, 1 the final agreement of A and B is below --min-agreement, or
// A's agreement with the exported --predictions is below --min-prediction-agreement
// (default 0.99), 2 bad input.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

std::function<int()> register_compare(CLI::App& app);

}  // namespace iclcert::cli
