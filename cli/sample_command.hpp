#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert sample`: draws prompts (spec section 1) and writes them exactly.
std::function<int()> register_sample(CLI::App& app);

}  // namespace iclcert::cli
