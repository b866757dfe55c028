#include "cli/instance.hpp"

#include "cli/embedded_examples.hpp"
#include "io/input_error.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"

#include <sstream>

namespace iclcert::cli {

void add_instance_options(CLI::App& cmd, InstanceOptions& o) {
  auto* prompt = cmd.add_option("--prompt", o.prompt_file, "Prompt file (docs/formats.md); default: the embedded example");
  auto* sample = cmd.add_option("--sample", o.sample, "Sample a prompt of sizes d,C,N instead (spec section 1)");
  prompt->excludes(sample);
  cmd.add_option("--seed", o.seed, "Seed of the sampler")->capture_default_str();
  cmd.add_flag("--balanced", o.balanced, "Sample exactly N/C points per class");
  cmd.add_option("--margin", o.margin, "Reject sampled points closer than this to a decision boundary")
      ->capture_default_str();
  cmd.add_option("--model", o.model_file, "Model file (docs/formats.md); default: the embedded example");
}

namespace {

}  // namespace

SamplerOptions sampler_options(const InstanceOptions& o) {
  if (o.sample.empty()) throw std::invalid_argument("--sample d,C,N is required here");
  SamplerOptions s;
  char c1 = 0, c2 = 0;
  std::istringstream in(o.sample);
  if (!(in >> s.d >> c1 >> s.C >> c2 >> s.N) || c1 != ',' || c2 != ',' || !in.eof())
    throw std::invalid_argument("--sample " + o.sample + ": expected d,C,N (for example 4,3,24)");
  if (s.d < 1 || s.d > 1024 || s.C < 2 || s.C > 256 || s.N < 1 || s.N > 65536)
    throw std::invalid_argument("--sample " + o.sample + ": expected 1 <= d <= 1024, 2 <= C <= 256, 1 <= N <= 65536");
  s.seed = o.seed;
  s.balanced = o.balanced;
  try {
    s.margin = parse_rational(o.margin);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--margin " + o.margin + ": " + e.what());
  }
  return s;
}

namespace {

// Dense matrices are (d+C) x (d+C) of the prompt they run on.
void check_dense_sizes(const Prompt& p, const Model& m, const std::string& file) {
  const std::size_t D = static_cast<std::size_t>(p.d + p.C);
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&m.layers[l]))
      for (std::size_t h = 0; h < dense->heads.size(); ++h)
        if (dense->heads[h].score.rows() != D)
          throw InputError(file, "layers[" + std::to_string(l) + "].heads[" + std::to_string(h) + "].score_matrix",
                           "expected a " + std::to_string(D) + " x " + std::to_string(D) +
                               " matrix (d + C of the prompt), got " + std::to_string(dense->heads[h].score.rows()) +
                               " x " + std::to_string(dense->heads[h].score.rows()));
}

}  // namespace

Prompt default_prompt() { return parse_prompts(Json::parse(kDefaultPromptJson), "<embedded default prompt>").at(0); }
Model default_model() { return parse_model(Json::parse(kDefaultModelJson), "<embedded default model>"); }

Instance load_instance(const InstanceOptions& o) {
  Instance in;
  if (!o.sample.empty()) {
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
  if (!o.model_file.empty()) {
    in.model = read_model_file(o.model_file);
    in.model_source = o.model_file;
  } else {
    in.model = default_model();
    in.model_source = "embedded default (examples/default_model.json)";
  }
  check_dense_sizes(in.prompt, in.model, o.model_file.empty() ? in.model_source : o.model_file);
  return in;
}

}  // namespace iclcert::cli
