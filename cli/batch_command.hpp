// `iclcert batch`: the batched float path (gpu/) over a batch file or sampled
// prompts, with per-layer batch statistics and validation against enclosures
// (claim G1). Exit status: 0 done (and, with --validate, every float value within
// the stated bound of its enclosure), 1 some value beyond the stated bound,
// 2 bad input or usage.
#pragma once

#include "gpu/batch_run.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace iclcert::cli {

std::function<int()> register_batch(CLI::App& app);

// --arith (float32, float64) and --device (auto, cpu, cuda) of the batch-path
// commands into `config`; throws std::invalid_argument naming the option otherwise.
void set_batch_backend(const std::string& arith, const std::string& device, gpu::BatchConfig& config);

// A double as 17 significant digits, which read back to the same double (how the
// batch-path commands write floating values, docs/formats.md "Numbers").
std::string round_trip_decimal(double v);

}  // namespace iclcert::cli
