#include "api/instance.hpp"

#include "api/embedded_examples.hpp"
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"

#include <cmath>

#include <sstream>

namespace iclcert::api {

void add_instance_options(CLI::App& cmd, InstanceOptions& o) {
  auto* prompt = cmd.add_option("--prompt", o.prompt_file, "Prompt file (docs/formats.md); default: the embedded example");
  auto* sample = cmd.add_option("--sample", o.sample, "Sample a prompt of sizes d,C,N instead (spec section 1)");
  prompt->excludes(sample);
  cmd.add_option("--seed", o.seed, "Seed of the sampler")->capture_default_str()->check(seed_check());
  cmd.add_flag("--balanced", o.balanced, "Sample exactly N/C points per class");
  cmd.add_option("--margin", o.margin, "Reject sampled points closer than this to a decision boundary")
      ->capture_default_str();
  cmd.add_option("--model", o.model_file, "Model file (docs/formats.md); default: the embedded example");
}

const CLI::Validator& seed_check() {
  static const CLI::Validator check(
      [](std::string& text) -> std::string {
        static const std::string max = "18446744073709551615";  // 2^64 - 1
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || text.size() > max.size() || (text.size() == max.size() && text > max))
          return "expected a whole number from 0 to " + max + ", got " + text;
        return "";
      },
      "UINT64", "seed");
  return check;
}

CLI::Validator finite_number_check(bool (*in_range)(double), const std::string& expected, const std::string& name) {
  return CLI::Validator(
      [in_range, expected](std::string& text) -> std::string {
        try {
          std::size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && std::isfinite(v) && in_range(v)) return "";
        } catch (const std::exception&) {
        }
        return "expected " + expected + ", got " + text;
      },
      name);
}

void check_prompt_sizes(const std::string& option, const std::string& text, long d, long C, long N) {
  if (d < 1 || d > kMaxFeatures || C < 2 || C > kMaxClasses || N < 1 || N > kMaxTrainingPoints)
    throw std::invalid_argument(option + " " + text + ": expected 1 <= d <= " + std::to_string(kMaxFeatures) +
                                ", 2 <= C <= " + std::to_string(kMaxClasses) + ", 1 <= N <= " +
                                std::to_string(kMaxTrainingPoints));
  if (N * (d + C) > kMaxPromptEntries)
    throw std::invalid_argument(option + " " + text + ": N * (d + C) = " + std::to_string(N * (d + C)) +
                                " exceeds the limit of " + std::to_string(kMaxPromptEntries) +
                                " entries of a prompt (docs/formats.md)");
}

SamplerOptions sampler_options(const InstanceOptions& o) {
  if (o.sample.empty()) throw std::invalid_argument("--sample d,C,N is required here");
  SamplerOptions s;
  char c1 = 0, c2 = 0;
  std::istringstream in(o.sample);
  if (!(in >> s.d >> c1 >> s.C >> c2 >> s.N) || c1 != ',' || c2 != ',' || !in.eof())
    throw std::invalid_argument("--sample " + o.sample + ": expected d,C,N (for example 4,3,24)");
  check_prompt_sizes("--sample", o.sample, s.d, s.C, s.N);
  s.seed = o.seed;
  s.balanced = o.balanced;
  try {
    s.margin = parse_rational(o.margin);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": " + e.what());
  }
  if (s.margin < 0)
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": expected a number >= 0");
  return s;
}

Prompt default_prompt() { return parse_prompts(Json::parse(kDefaultPromptJson), "<embedded default prompt>").at(0); }
Model default_model() { return parse_model(Json::parse(kDefaultModelJson), "<embedded default model>"); }

Instance load_instance(const InstanceOptions& o) { return load_instance(o, GivenInstance{}); }

Instance load_instance(const InstanceOptions& o, const GivenInstance& given) {
  Instance in;
  if (given.prompt) {
    in.prompt = *given.prompt;
    in.prompt_source = given.prompt_source;
  } else if (!o.sample.empty()) {
    in.prompt = sample_prompt(sampler_options(o));
    in.prompt_source = "sampled d,C,N = " + o.sample + ", seed " + std::to_string(o.seed) +
                       (o.balanced ? ", balanced" : "");
  } else if (!o.prompt_file.empty()) {
    std::vector<Prompt> prompts = read_prompt_file(o.prompt_file);
    if (prompts.size() != 1)
      throw InputError(o.prompt_file, "prompts", "expected a single prompt here, got a batch of " +
                                                     std::to_string(prompts.size()));
    in.prompt = std::move(prompts[0]);
    in.prompt_source = o.prompt_file;
  } else {
    in.prompt = default_prompt();
    in.prompt_source = "embedded default (examples/default_prompt.json)";
  }
  if (given.model) {
    in.model = *given.model;
    in.model_source = given.model_source;
  } else if (!o.model_file.empty()) {
    in.model = read_model_file(o.model_file);
    in.model_source = o.model_file;
  } else {
    in.model = default_model();
    in.model_source = "embedded default (examples/default_model.json)";
  }
  require_model_fits(in.model, in.prompt.d, in.prompt.C,
                     given.model || o.model_file.empty() ? in.model_source : o.model_file,
                     given.prompt             ? in.prompt_source
                     : !o.sample.empty()      ? "--sample " + o.sample
                     : !o.prompt_file.empty() ? "the prompt " + o.prompt_file
                                              : std::string("the embedded default prompt"));
  fill_split(in.model, in.prompt.d, in.prompt.C);  // so that files written from this instance record it
  return in;
}

}  // namespace iclcert::api
