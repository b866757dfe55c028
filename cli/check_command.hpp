#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert check --claim ID`: a certified verdict (proved / refuted / undecided) for
// one claim of spec section 6 on one instance, box or sample; `--replay FILE`
// re-checks a verdict file.
std::function<int()> register_check(CLI::App& app);

}  // namespace iclcert::cli
