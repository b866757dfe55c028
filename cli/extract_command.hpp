// `iclcert extract`: claim E3 on a (trained) model file, and the reduced recursion
// extracted from it (numerics/extraction.hpp, theory/extraction.md).
// Exit status: 0 done, 1 a matrix's E3 residual is not below --max-residual,
// 2 bad input or usage.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

std::function<int()> register_extract(CLI::App& app);

}  // namespace iclcert::cli
