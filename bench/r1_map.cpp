// R1 maps (issue 26): the proved, refuted and undecided volume fractions and the
// time of `check --claim R1 --map` on the maps of the issue, for each enclosure
// form and paving order, on one core. A plain program: no Google Benchmark needed.
//
//   r1_map [--quick] [--map K] [--form NAME] [--budget N] [--time-limit S]
//   r1_map --probe K LO:HI...
//
// --quick divides every budget by 8; --map K runs the K-th map only (1-based),
// --form NAME one form only; --budget N replaces every map's budget; --time-limit S
// stops each map after S seconds (the fractions are then those decided so far).
// Prints one Markdown row per map and form. --probe prints, for one sub-box of map
// K (one LO:HI per box dimension), each transition's plain enclosure of M and the
// second-order form's D_t, its remainder and first linear coefficient: where a map's
// undecided sub-boxes lose.
#include "claims/robustness.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/sampler.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace iclcert;
using namespace iclcert::claims;

namespace {

struct Map {
  std::string name;
  Prompt prompt;
  Model model;
  std::vector<std::string> box;
  int budget;
};

struct Form {
  const char* name;
  EnclosureForm form;
  bool monotone, breadth_first;
};

// The forms and orders compared: before issue 26 (breadth first), then the new
// order alone, then the new order with the monotonicity test, then the affine form
// (numerics/affine.hpp) before the centred one.
const Form kForms[] = {
    {"plain, breadth first", EnclosureForm::plain, false, true},
    {"plain", EnclosureForm::plain, false, false},
    {"centred, breadth first", EnclosureForm::centred, false, true},
    {"centred, no monotonicity", EnclosureForm::centred, false, false},
    {"centred", EnclosureForm::centred, true, false},
    {"affine, no monotonicity", EnclosureForm::affine, false, false},
    {"affine", EnclosureForm::affine, true, false},
    {"taylor2", EnclosureForm::taylor2, true, false},
    {"taylor3", EnclosureForm::taylor3, true, false},
};

Model reduced(int layers, const char* beta, const char* gamma, const char* alpha, const char* alpha_label) {
  Model m;
  for (int l = 0; l < layers; ++l)
    m.layers.push_back(ReducedLayer<Rational>{
        {parse_rational(beta), parse_rational(gamma), parse_rational(alpha), parse_rational(alpha_label)}, std::nullopt});
  return m;
}

std::vector<Map> maps() {
  const std::string dir = ICLCERT_EXAMPLES_DIR;
  const Prompt fixed = read_prompt_file(dir + "/default_prompt.json").at(0);
  const Model reduced4 = read_model_file(dir + "/models/reduced4.json");
  SamplerOptions s;
  s.d = 2, s.C = 3, s.N = 12, s.seed = 2;
  return {
      {"reduced4, gamma=1:4", fixed, reduced4, {"gamma=1:4"}, 1024},
      {"sampled 2,3,12 seed 2, gamma=1:4", sample_prompt(s), reduced(4, "1/4", "2", "1/2", "1/2"), {"gamma=1:4"}, 2000},
      {"default model, alpha=-0.5:1", fixed, read_model_file(dir + "/default_model.json"), {"alpha=-0.5:1"}, 256},
      {"reduced4, beta=0:1 x gamma=0:4", fixed, reduced4, {"beta=0:1", "gamma=0:4"}, 64},
  };
}

// --probe (see above).
int probe(const Map& m, const std::vector<std::string>& ranges) {
  using Tr = ScalarTraits<ArbBall>;
  WorkingPrecision bits(128);
  RobustnessOptions o;
  for (const auto& b : m.box) o.box.push_back(parse_box(b));
  SubBox b;
  for (const auto& r : ranges) {
    const auto c = r.find(':');
    b.ranges.push_back({parse_rational(r.substr(0, c)), parse_rational(r.substr(c + 1))});
  }
  const State<ArbBall> start = robustness_start<ArbBall>(m.prompt, m.model, o);
  const BasicModel<ArbBall> boxed = substitute<ArbBall>(m.model, o.box, [&](std::size_t k) {
    return Tr::hull(from_rational<ArbBall>(b.ranges[k].first), from_rational<ArbBall>(b.ranges[k].second));
  });
  const Trace<ArbBall> trace = run_recursion_from<ArbBall>(m.prompt, start, boxed);
  TaylorDifferences<ArbBall, 2> t2(m.prompt, m.model, start, o.box, b, SeparationMetric::fisher);
  for (int t = 0; t + 1 < static_cast<int>(trace.entries.size()); ++t) {
    // A ratio whose kind is not finite prints as its value field, [0, 0].
    std::printf("t=%d plain F=%s", t, Tr::to_string(trace.entries[t + 1].metrics.fisher.value).c_str());
    if (const auto d = t2.change(t))
      std::printf("  taylor2 D=%s rem=%s lin0=%s", Tr::to_string(d->monotone_range()).c_str(), Tr::to_string(d->rem).c_str(),
                  Tr::to_string(d->linear(0)).c_str());
    else
      std::printf("  taylor2: not finite");
    std::printf("  F_form=%s\n", Tr::to_string(t2.form_trace().entries[t + 1].metrics.fisher.value.range()).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int only_map = 0;
  std::string only_form;
  double time_limit = 0;
  int budget = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--probe" && i + 1 < argc) {
      const int k = std::atoi(argv[++i]);
      return probe(maps().at(static_cast<std::size_t>(k - 1)), std::vector<std::string>(argv + i + 1, argv + argc));
    }
    if (a == "--quick") quick = true;
    else if (a == "--map" && i + 1 < argc) only_map = std::atoi(argv[++i]);
    else if (a == "--form" && i + 1 < argc) only_form = argv[++i];
    else if (a == "--time-limit" && i + 1 < argc) time_limit = std::atof(argv[++i]);
    else if (a == "--budget" && i + 1 < argc) budget = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: r1_map [--quick] [--map K] [--form NAME] [--budget N] [--time-limit S] | --probe K LO:HI...\n");
      return 2;
    }
  }
  WorkingPrecision bits(128);
  std::printf("R1 --map, A2's statement on the Fisher ratio, Arb at 128 bits, one core%s\n",
              quick ? " (--quick: budgets / 8)" : "");
  std::printf("| map | form | budget | evaluated | proved | refuted | undecided | time (s) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  const std::vector<Map> all = maps();
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (only_map > 0 && static_cast<std::size_t>(only_map) != k + 1) continue;
    const Map& m = all[k];
    for (const Form& f : kForms) {
      if (!only_form.empty() && only_form != f.name) continue;
      RobustnessOptions o;
      for (const auto& b : m.box) o.box.push_back(parse_box(b));
      o.budget = budget > 0 ? budget : quick ? std::max(1, m.budget / 8) : m.budget;
      o.map = true;
      o.form = f.form;
      o.monotone = f.monotone;
      o.breadth_first = f.breadth_first;
      o.time_limit = time_limit;
      Paving paving;
      o.paving = &paving;
      const auto start = std::chrono::steady_clock::now();
      check_robustness<ArbBall>(m.prompt, m.model, o);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("| %s | %s | %d | %d | %.4f | %.4f | %.4f | %.1f%s |\n", m.name.c_str(), f.name, o.budget,
                  paving.evaluated, nearest_double(paving.proved), nearest_double(paving.refuted),
                  nearest_double(paving.undecided), s, paving.stopped_at_time_limit ? " (time limit)" : "");
      std::fflush(stdout);
    }
  }
}
