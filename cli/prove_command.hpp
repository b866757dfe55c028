#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert prove --lemma NAME`: proves a one-layer lemma with Z3 (proofs/,
// theory/smt_lemmas.md). Exit status 0 proved, 1 refuted, 3 undecided.
std::function<int()> register_prove(CLI::App& app);

}  // namespace iclcert::cli
