#include "cli/sample_command.hpp"

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
};

int sample(const SampleOptions& o) {
  SamplerOptions s{o.d, o.C, o.N, o.seed, o.balanced, 0, true};
  try {
    s.margin = parse_rational(o.margin);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--margin " + o.margin + ": " + e.what());
  }
  Json out;
  if (o.count == 1) {
    out = prompt_to_json(sample_prompt(s));
  } else {
    // Prompt k of a batch uses seed + k, so any one prompt can be redrawn alone.
    Json list = Json::array();
    for (int k = 0; k < o.count; ++k) {
      s.seed = o.seed + static_cast<std::uint64_t>(k);
      list.push_back(prompt_to_json(sample_prompt(s), false));
    }
    out = {{"format", 1}, {"prompts", std::move(list)}};
  }
  const std::string text = out.dump(1) + "\n";
  if (o.out.empty()) std::fputs(text.c_str(), stdout);
  else write_file_atomically(o.out, text);
  return 0;
}

}  // namespace

std::function<int()> register_sample(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* cmd = app.add_subcommand("sample", "Draw prompts of the in-context task and write them exactly");
  cmd->add_option("-d", o->d, "Features")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("-C", o->C, "Classes")->capture_default_str()->check(CLI::Range(2, 256));
  cmd->add_option("-N", o->N, "Training points")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--count", o->count, "Prompts (a batch file when > 1)")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--seed", o->seed, "Seed")->capture_default_str();
  cmd->add_flag("--balanced", o->balanced, "Exactly N/C points per class");
  cmd->add_option("--margin", o->margin, "Reject points closer than this to a decision boundary")->capture_default_str();
  cmd->add_option("--out", o->out, "Output file (default: standard output)");
  return [o] { return sample(*o); };
}

}  // namespace iclcert::cli
