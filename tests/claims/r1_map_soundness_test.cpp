// Issue 26: R1 maps are sound. Every proved sub-box of a map is sampled at points
// (a fixed seed) and the claim checked at each by an independent computation, the
// recursion in MPFR at 256 bits (run_recursion<MpfrReal>, no enclosure, no
// derivative, no paving): 0 failures. Every refuted sub-box fails at its sampled
// points the same way, and a refuted map's verdict file, and one stopped by
// --time-limit, replay (`check --replay`, the binary as a user runs it).
#include "claims/robustness.hpp"
#include "io/prompt_io.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "support/cli_runner.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace iclcert::claims {
namespace {

constexpr std::uint64_t kSeed = 20260126;  // every sampled point below
constexpr int kPointsPerBox = 10;

const char* const kTwoLayers = R"({"format": 1, "kernel": "softmax", "probe_label_init": "zero", "probe_is_key": false,
  "layers": [{"beta": "1/4", "gamma": "1", "alpha": "1/2", "alpha_label": "1/2"},
             {"beta": "1/4", "gamma": "1", "alpha": "1/2", "alpha_label": "1/2"}]})";

Prompt default_prompt() {
  return read_prompt_file(std::string(ICLCERT_SOURCE_DIR) + "/examples/default_prompt.json").at(0);
}

Model reduced(int layers) {
  Model m;
  for (int l = 0; l < layers; ++l) m.layers.push_back(testing::reduced("1/4", "1", "1/2", "1/2"));
  return m;
}

// The least M^{t+1} - M^t over the transitions, at one point of the box, in MPFR
// at 256 bits: the claim (A2's, non-strict) holds there iff it is >= 0. The
// tolerance below is far beyond 256-bit rounding and far below the changes here.
double least_change(const Prompt& p, const Model& m, const std::vector<BoxDimension>& box, const std::vector<Rational>& at) {
  WorkingPrecision bits(256);
  Model point = m;
  point.layers = substitute<Rational>(m, box, [&](std::size_t k) { return at[k]; }).layers;
  const Trace<MpfrReal> t = run_recursion<MpfrReal>(p, point);
  double least = std::numeric_limits<double>::infinity();
  for (std::size_t l = 0; l + 1 < t.entries.size(); ++l) {
    const auto& after = t.entries[l + 1].metrics.fisher;
    const auto& before = t.entries[l].metrics.fisher;
    EXPECT_EQ(after.kind, Ratio<MpfrReal>::Kind::finite);
    EXPECT_EQ(before.kind, Ratio<MpfrReal>::Kind::finite);
    least = std::min(least, ScalarTraits<MpfrReal>::to_double(after.value - before.value));
  }
  return least;
}
constexpr double kTolerance = 1e-40;

struct Sampled {
  Paving paving;
  int proved_points = 0, refuted_points = 0, failures = 0;
};

// Samples every proved and refuted region of `paving` (a map of `box` over (p, m))
// at `points_per_box` points: a proved region must hold at each, a refuted one fail.
Sampled sample(const Prompt& p, const Model& m, const std::vector<BoxDimension>& box, Paving paving,
               int points_per_box = kPointsPerBox, bool expect_sound = true) {
  Sampled s;
  s.paving = std::move(paving);
  std::mt19937_64 rng(kSeed);
  for (const Region& g : s.paving.regions) {
    if (g.status == Verdict::undecided) continue;
    for (int k = 0; k < points_per_box; ++k) {
      std::vector<Rational> at;
      for (const auto& [lo, hi] : g.box.ranges)
        at.push_back(lo + (hi - lo) * Rational(static_cast<long>(rng() % (1u << 20)), 1L << 20));
      const double least = least_change(p, m, box, at);
      const bool holds = least >= -kTolerance;
      if (g.status == Verdict::proved) {
        ++s.proved_points;
        s.failures += !holds;
        if (expect_sound) {
          EXPECT_TRUE(holds) << "proved sub-box, but F falls by " << -least << " at " << to_string(at[0]);
        }
      } else {
        ++s.refuted_points;
        s.failures += holds;
        if (expect_sound) {
          EXPECT_FALSE(holds) << "refuted sub-box, but F does not fall at " << to_string(at[0]);
        }
      }
    }
  }
  return s;
}

// Maps `dims` over (p, m) with `form` (by default centred, with the monotonicity test) and
// samples every proved and refuted region at `points_per_box` points.
Sampled map_and_sample(const Prompt& p, const Model& m, const std::vector<const char*>& dims, int budget,
                       bool monotone = true, EnclosureForm form = EnclosureForm::centred,
                       int points_per_box = kPointsPerBox) {
  Paving paving;
  RobustnessOptions o;
  o.form = form;
  for (const char* d : dims) o.box.push_back(parse_box(d));
  o.budget = budget;
  o.map = true;
  o.monotone = monotone;
  o.paving = &paving;
  {
    WorkingPrecision bits(128);
    check_robustness<ArbBall>(p, m, o);
  }
  const Sampled s = sample(p, m, o.box, std::move(paving), points_per_box);
  std::printf("%s form, %s, budget %d: proved %.4f refuted %.4f undecided %.4f; %d proved and %d refuted points sampled, %d failures\n",
              form_name(form), dims[0], budget, nearest_double(s.paving.proved), nearest_double(s.paving.refuted),
              nearest_double(s.paving.undecided), s.proved_points, s.refuted_points, s.failures);
  return s;
}

// The issue's map, on a quarter of its gamma range to fit a test's time: reduced4
// (4 layers) on the default prompt, gamma in [1, 5/4].
TEST(R1MapSoundness, ProvedSubBoxesOfTheGammaMapHoldAtSampledPoints) {
  const Sampled s = map_and_sample(default_prompt(), reduced(4), {"gamma=1:5/4"}, 48);
  EXPECT_GE(s.paving.proved, Rational(1, 2));
  EXPECT_GE(s.proved_points, 100);
  EXPECT_EQ(s.failures, 0);
}

// The affine form on the same quarter, and the second-order Taylor form
// (numerics/affine.hpp) on the issue's whole map, gamma in [1, 4] with budget 1024:
// it proves at least 0.95 of it (all of it, in about 20 sub-boxes), and every proved
// sub-box holds at 100 sampled points (the issue's criterion; 10 for the affine form's).
TEST(R1MapSoundness, ProvedSubBoxesOfTheGammaMapHoldAtSampledPointsWithTaylorForms) {
  const Sampled affine = map_and_sample(default_prompt(), reduced(4), {"gamma=1:5/4"}, 48, true, EnclosureForm::affine);
  const Sampled taylor2 =
      map_and_sample(default_prompt(), reduced(4), {"gamma=1:4"}, 1024, true, EnclosureForm::taylor2, 100);
  EXPECT_GE(taylor2.paving.proved, Rational(95, 100));
  int proved_regions = 0;
  for (const Region& g : taylor2.paving.regions) proved_regions += g.status == Verdict::proved;
  EXPECT_GT(proved_regions, 1);
  EXPECT_EQ(taylor2.proved_points, 100 * proved_regions);
  EXPECT_EQ(affine.failures, 0);
  EXPECT_EQ(taylor2.failures, 0);
}

// Each form's enclosure of D_t over a small sub-box contains D_t at sampled points
// (MPFR at 256 bits), the claim's own quantity as one form.
TEST(R1MapSoundness, TaylorFormsEncloseTheChangesAtSampledPoints) {
  const Prompt p = default_prompt();
  const Model m = reduced(4);
  const std::vector<BoxDimension> box{parse_box("gamma=2:2.01")};
  const SubBox b{{{box[0].lo, box[0].hi}}, 1, 0};
  WorkingPrecision bits(128);
  const State<ArbBall> start = initial_state<ArbBall>(p, m.probe_label_init);
  const TaylorDifferences<ArbBall, 1> affine(p, m, start, box, b, SeparationMetric::fisher);
  const TaylorDifferences<ArbBall, 2> taylor2(p, m, start, box, b, SeparationMetric::fisher);
  std::mt19937_64 rng(kSeed);
  int checked = 0;
  for (int k = 0; k < 20; ++k) {
    const Rational g = box[0].lo + (box[0].hi - box[0].lo) * Rational(static_cast<long>(rng() % 1025), 1024);
    Model point = m;
    point.layers = substitute<Rational>(m, box, [&](std::size_t) { return g; }).layers;
    Trace<MpfrReal> t;
    {
      WorkingPrecision precise(256);
      t = run_recursion<MpfrReal>(p, point);
    }
    for (int s = 0; s + 1 < static_cast<int>(t.entries.size()); ++s) {
      Rational truth;
      {
        WorkingPrecision precise(256);
        const MpfrReal d = t.entries[s + 1].metrics.fisher.value - t.entries[s].metrics.fisher.value;
        mpfr_get_q(truth.backend().data(), d.get());
      }
      for (const auto& form : {affine.change(s).value().range(), taylor2.change(s).value().range()}) {
        EXPECT_TRUE(ScalarTraits<ArbBall>::contains(form, truth)) << "t=" << s << " gamma=" << to_string(g);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 20 * 4 * 2);
}

// A 2-D map, with and without the monotonicity test: every proved sub-box holds at
// its sampled points. (Which of the two proves more depends on the paving's order:
// they split different sub-boxes. The test's own gain, per sub-box, is in
// paving_test's MonotonicityTest.)
TEST(R1MapSoundness, ProvedSubBoxesOfATwoDimensionalMapHoldAtSampledPoints) {
  const Prompt p = testing::sampled(2, 3, 9, 11);
  const Sampled with = map_and_sample(p, reduced(2), {"alpha=1/1024:1", "gamma=1/2:2"}, 256);
  const Sampled without = map_and_sample(p, reduced(2), {"alpha=1/1024:1", "gamma=1/2:2"}, 256, false);
  EXPECT_GT(with.paving.proved, Rational(1, 4));
  EXPECT_GT(without.paving.proved, Rational(1, 4));
  EXPECT_GE(with.proved_points, 100);
  EXPECT_EQ(with.failures, 0);
  EXPECT_EQ(without.failures, 0);
}

// A map across alpha = 0: proved for alpha > 0, refuted for alpha < 0.
TEST(R1MapSoundness, ProvedAndRefutedSubBoxesOfAnAlphaMapAreRightAtSampledPoints) {
  const Model m = parse_model(Json::parse(kTwoLayers), "two layers");
  const Sampled s = map_and_sample(default_prompt(), m, {"alpha=-1/2:1"}, 32);
  EXPECT_GT(s.paving.proved, Rational(1, 2));
  EXPECT_GT(s.paving.refuted, Rational(1, 4));
  EXPECT_GT(s.refuted_points, 0);
  EXPECT_EQ(s.failures, 0);
}

// The same alpha map with the second-order Taylor form (the CLI's default), whose
// refuted sub-boxes are certified as volumes (D_t's form < 0 over the whole
// sub-box), and its D_t ranges sharpened by the monotonicity test on the form's
// polynomial (TaylorForm::monotone_range): every proved and every refuted sub-box is
// right at 20 sampled points. The planted fault: the same regions with proved and
// refuted swapped fail the sampling at every point.
TEST(R1MapSoundness, ProvedAndRefutedSubBoxesOfATaylorAlphaMapAreRightAtSampledPoints) {
  const Prompt p = default_prompt();
  const Model m = parse_model(Json::parse(kTwoLayers), "two layers");
  const Sampled s = map_and_sample(p, m, {"alpha=-1/2:1"}, 32, true, EnclosureForm::taylor2, 20);
  EXPECT_GT(s.paving.proved, Rational(1, 2));
  EXPECT_GT(s.paving.refuted, Rational(1, 4));
  EXPECT_GT(s.refuted_points, 0);
  EXPECT_GE(s.proved_points, 100);
  EXPECT_EQ(s.failures, 0);
  Paving swapped = s.paving;
  for (Region& g : swapped.regions)
    if (g.status != Verdict::undecided) g.status = g.status == Verdict::proved ? Verdict::refuted : Verdict::proved;
  const Sampled fault = sample(p, m, {parse_box("alpha=-1/2:1")}, swapped, 20, false);
  std::printf("  planted fault (proved and refuted swapped): %d failures of %d points\n", fault.failures,
              fault.proved_points + fault.refuted_points);
  EXPECT_EQ(fault.failures, fault.proved_points + fault.refuted_points);
}

class R1MapReplay : public testing::CliTest {};

// The refuted map's verdict file replays: its counterexample, and the whole map,
// are recomputed (exit 0).
TEST_F(R1MapReplay, ARefutedMapReplays) {
  const std::string model = write("two.json", kTwoLayers);
  const testing::CliResult r =
      testing::iclcert("check --claim R1 --map --box alpha=-1/2:1 --budget 32 --form centred --model " + model +
                       " --json " + path("v.json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("refuted volume fraction: 85/256"), std::string::npos) << r.output;
  const testing::CliResult again = testing::iclcert("check --replay " + path("v.json"));
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("replay reproduces the recorded verdict"), std::string::npos) << again.output;
}

// The same with the CLI's default form, taylor2: its refuted regions are certified
// volumes, and the verdict file (counterexample and map) replays.
TEST_F(R1MapReplay, ARefutedTaylorMapReplays) {
  const std::string model = write("two.json", kTwoLayers);
  const testing::CliResult r = testing::iclcert("check --claim R1 --map --box alpha=-1/2:1 --budget 32 --model " +
                                                model + " --json " + path("v.json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("taylor2 form"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("refuted volume fraction: 0 "), std::string::npos) << r.output;
  const testing::CliResult again = testing::iclcert("check --replay " + path("v.json"));
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("replay reproduces the recorded verdict"), std::string::npos) << again.output;
}

// --time-limit stops the map (undecided, exit 3) and records the budget that
// reproduces it, so the file replays. Six layers over gamma: far from finishing.
TEST_F(R1MapReplay, AMapStoppedByItsTimeLimitReplays) {
  const testing::CliResult r = testing::iclcert(
      "check --claim R1 --map --box gamma=1:4 --budget 100000 --time-limit 1 --json " + path("v.json"));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("stopped at the time limit"), std::string::npos) << r.output;
  const Json v = Json::parse(std::ifstream(path("v.json")));
  const long budget = v["evidence"]["options"]["budget"].get<long>();
  EXPECT_EQ(budget, v["evidence"]["sub_boxes_evaluated"].get<long>());
  EXPECT_LT(budget, 100000);
  const testing::CliResult again = testing::iclcert("check --replay " + path("v.json"));
  EXPECT_EQ(again.status, 0) << again.output;
  // Refused: without --map, and not a positive number of seconds.
  EXPECT_EQ(testing::iclcert("check --claim R1 --box alpha=1/8:1 --time-limit 5").status, 2);
  EXPECT_EQ(testing::iclcert("check --claim R1 --map --box alpha=1/8:1 --time-limit -1").status, 2);
}

}  // namespace
}  // namespace iclcert::claims
