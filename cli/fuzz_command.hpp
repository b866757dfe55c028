#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert fuzz`: property-based fuzzing of the recursion (properties/catalog.hpp)
// and of a user's weights (--property equivariance --model M.json).
// Exit: 0 every case held, 1 a counterexample (saved for --replay), 3 gave up
// (too many discarded cases), 2 bad input or usage.
std::function<int()> register_fuzz(CLI::App& app);

}  // namespace iclcert::cli
