// Where a command's prompt and model come from: files, the sampler, or the
// embedded default of examples/.
#pragma once

#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "numerics/sampler.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace iclcert::api {

struct InstanceOptions {
  std::string prompt_file, model_file, sample;  // sample: "d,C,N"
  std::uint64_t seed = 1;
  bool balanced = false;
  std::string margin = "0";
};

// Adds --prompt, --sample, --seed, --balanced, --margin, --model to a command.
void add_instance_options(CLI::App& cmd, InstanceOptions& o);

// For every --seed: a whole number from 0 to 2^64 - 1, written in decimal digits
// (CLI11 alone wraps "-1" and saturates larger numbers to 2^64 - 1).
const CLI::Validator& seed_check();

// A flag's number: the whole text a finite double accepted by `in_range`, else
// "expected `expected`, got TEXT" (CLI11 alone takes "nan" and "inf").
CLI::Validator finite_number_check(bool (*in_range)(double), const std::string& expected, const std::string& name);

// --sample d,C,N sizes: the ranges of a prompt file and N (d + C) <= kMaxPromptEntries.
// Throws std::invalid_argument naming `option` and `text`.
void check_prompt_sizes(const std::string& option, const std::string& text, long d, long C, long N);

struct Instance {
  Prompt prompt;
  Model model;
  std::string prompt_source, model_source;  // for the report header
};

// Throws InputError / std::invalid_argument on bad input.
Instance load_instance(const InstanceOptions& o);

// A call's prompt and model given in memory (either may be absent: it then comes
// from the options, as above), with the names the account gives them.
struct GivenInstance {
  std::optional<Prompt> prompt;
  std::optional<Model> model;
  std::string prompt_source = "the given prompt", model_source = "the given model";
};
// The model is fitted to the prompt (require_model_fits, fill_split) as above.
Instance load_instance(const InstanceOptions& o, const GivenInstance& given);

// The sampler settings of --sample/--seed/--balanced/--margin; throws
// std::invalid_argument when --sample is absent or malformed.
SamplerOptions sampler_options(const InstanceOptions& o);

// The embedded default instance (examples/default_prompt.json, default_model.json).
Prompt default_prompt();
Model default_model();

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
