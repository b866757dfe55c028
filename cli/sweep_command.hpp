#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace iclcert::cli {

// `iclcert sweep --claim A2|A1|E1|margin --grid NAME=LO:HI:COUNT ...`: a map of
// certified verdicts over a grid of reduced-model coefficients. Every cell's model
// is --model with the gridded training coefficients set at every layer; every
// (cell, prompt) is checked by the very code of `iclcert check` (check_point, with
// its precision escalation), so a sweep adds no claim implementation of its own
// except "margin", the sign of the final probe margin, which check has no claim for.
// Output: per cell the counts of proved / refuted / undecided (CSV and JSON,
// docs/formats.md), and for a refuted cell one verdict file that `check --replay`
// re-runs. Exit 0 when the map was written, 2 on bad input. Option parsing and
// printing over api::sweep (api/sweep.hpp).
std::function<int()> register_sweep(CLI::App& app);

}  // namespace iclcert::cli
