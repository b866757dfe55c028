// `iclcert batch`: the batched float path (gpu/) over a batch file or sampled
// prompts, with per-layer batch statistics and validation against enclosures
// (claim G1). Exit status: 0 done (and, with --validate, every float value within
// the stated bound of its enclosure), 1 some value beyond the stated bound,
// 2 bad input or usage.
#pragma once

#include "api/csv_table.hpp"
#include "gpu/batch_run.hpp"
#include "io/json_reader.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <string>

namespace iclcert::cli {

std::function<int()> register_batch(CLI::App& app);

// The options of `iclcert batch` (the flags of the same names).
struct BatchOptions {
  std::string prompt_file, sample, model_file, arith = "float32", device = "auto", validate = "0", json, csv;
  long prompts = 1;  // --count (its old spelling: --prompts): the sampled prompts
  std::uint64_t seed = 1;
  bool balanced = false, progress = false, no_progress = false, final_only = false;
  bool certify = false, no_escalate = false;
  long max_prec = 1024;  // as in every command with --max-prec (docs/cli.md)
  std::string prompt_flag = "--prompt";  // the spelling given, for messages
  gpu::ProgressMode progress_mode() const { return gpu::ProgressMode::of_flags(progress, no_progress); }
  std::string margin = "0";
  int threads = 0, chunk = 4096;
  bool chunk_given = false;
};

// --arith (float32, float64) and --device (auto, cpu, cuda) of the batch-path
// commands into `config`; throws std::invalid_argument naming the option otherwise.
void set_batch_backend(const std::string& arith, const std::string& device, gpu::BatchConfig& config);

// --validate K or all as api::BatchRequest::validate (api::kValidateAll for all);
// throws std::invalid_argument naming --validate otherwise.
long validate_option(const std::string& text);

}  // namespace iclcert::cli
