#include "cli/sample_command.hpp"

#include "api/instance.hpp"
#include "cli/vocabulary.hpp"
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"
#include "numerics/sampler.hpp"

#include <cstdio>
#include <memory>

namespace iclcert::cli {
namespace {

struct SampleOptions {
  int d = 4, C = 3, N = 24, count = 1;
  std::uint64_t seed = 1;
  bool balanced = false;
  std::string margin = "0", out;
  std::string sample;  // --sample d,C,N, the sizes as every command gives them; else -d, -C, -N (old)
};

// A prompt of a batch, indented as the batch's dump(1) would indent it.
std::string batch_element_text(const Prompt& p) {
  std::string text = "  " + prompt_to_json(p, false).dump(1);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

int sample(SampleOptions o) {
  if (!o.sample.empty()) {
    InstanceOptions sizes;
    sizes.sample = o.sample;
    const SamplerOptions given = sampler_options(sizes);  // the format and the limits of every --sample
    o.d = given.d, o.C = given.C, o.N = given.N;
  }
  SamplerOptions s{o.d, o.C, o.N, o.seed, o.balanced, 0, true};
  try {
    s.margin = parse_rational(o.margin);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": " + e.what());
  }
  if (s.margin < 0)
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": expected a number >= 0");
  const std::string sizes = std::to_string(o.d) + "," + std::to_string(o.C) + "," + std::to_string(o.N);
  check_prompt_sizes(o.sample.empty() ? "-d, -C, -N" : "--sample", sizes, o.d, o.C, o.N);
  const std::uint64_t entries = static_cast<std::uint64_t>(o.count) * o.N * (o.d + o.C);
  if (entries > limit(Limit::sample_entries))
    throw std::invalid_argument("--count " + std::to_string(o.count) + ": count * N * (d + C) = " +
                                std::to_string(entries) + " numbers to write " + beyond_limit(Limit::sample_entries));
  Outputs outputs;
  const std::string out = o.out.empty() ? "-" : o.out;
  outputs.declare("--out", out);
  std::ostream& stream = outputs.stream(out);
  if (o.count == 1) {
    stream << prompt_to_json(sample_prompt(s)).dump(1) << "\n";
  } else {
    // Prompt k of a batch uses seed + k, so any one prompt can be redrawn alone.
    // Written prompt by prompt: the batch is never held whole in memory.
    stream << "{\n \"format\": 1,\n \"prompts\": [\n";
    for (int k = 0; k < o.count; ++k) {
      s.seed = o.seed + static_cast<std::uint64_t>(k);
      stream << (k ? ",\n" : "") << batch_element_text(sample_prompt(s));
    }
    stream << "\n ]\n}\n";
  }
  outputs.commit();
  return 0;
}

}  // namespace

std::function<int()> register_sample(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* cmd = app.add_subcommand("sample", "Draw prompts of the in-context task and write them exactly");
  auto* sizes = cmd->add_option("--sample", o->sample, "Sizes d,C,N: features, classes, training points (default 4,3,24)");
  add_old_spelling(*cmd, "-d", o->d, sizes, "--sample d,C,N", CLI::Range(1, 1024));
  add_old_spelling(*cmd, "-C", o->C, sizes, "--sample d,C,N", CLI::Range(2, 256));
  add_old_spelling(*cmd, "-N", o->N, sizes, "--sample d,C,N", CLI::Range(1, 65536));
  cmd->add_option("--count", o->count, "Prompts (a batch file when > 1)")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--seed", o->seed, "Seed")->capture_default_str()->check(seed_check());
  cmd->add_flag("--balanced", o->balanced, "Exactly N/C points per class");
  cmd->add_option("--margin", o->margin, "Reject points closer than this to a decision boundary")->capture_default_str();
  cmd->add_option("--out", o->out, "Output file (default, or -: standard output)");
  return [o] { return sample(*o); };
}

}  // namespace iclcert::cli
