#include "cli/sample_command.hpp"

#include "api/instance.hpp"
#include "api/sample.hpp"
#include "cli/vocabulary.hpp"
#include "io/input_error.hpp"

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

int sample(SampleOptions o) {
  if (!o.sample.empty()) {
    InstanceOptions sizes;
    sizes.sample = o.sample;
    const SamplerOptions given = sampler_options(sizes);  // the format and the limits of every --sample
    o.d = given.d, o.C = given.C, o.N = given.N;
  }
  api::SampleRequest rq;
  rq.sampler = SamplerOptions{o.d, o.C, o.N, o.seed, o.balanced, 0, true};
  try {
    rq.sampler.margin = parse_rational(o.margin);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": " + e.what());
  }
  if (rq.sampler.margin < 0)  // named as given
    throw std::invalid_argument("--margin " + iclcert::detail::printable_name(o.margin, 40) + ": expected a number >= 0");
  rq.count = o.count;
  rq.out = o.out.empty() ? "-" : o.out;
  rq.sizes_option = o.sample.empty() ? "-d, -C, -N" : "--sample";
  api::sample(rq);
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
