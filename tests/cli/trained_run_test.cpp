// The shipped trained run (examples/trained/, made by examples/train/train.py) taken
// through `iclcert extract` and `iclcert compare`, as issue 7 asks:
//  - the run trained with the symmetry enforced has E3 residual ~0, the one trained
//    without it a clearly larger one;
//  - the extracted reduced recursion agrees with the trained model's own exported
//    (PyTorch float32) predictions on the held-out batch on at least 97% of prompts
//    (measured: 98.9%), and iclcert's float32 run of the imported dense weights
//    agrees with them on at least 99.8% (measured: 100%);
//  - bad input exits 2 naming the file and field, with no output file.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using iclcert::testing::iclcert;
using Trained = iclcert::testing::CliTest;

std::string shipped(const std::string& name) { return std::string(ICLCERT_SOURCE_DIR) + "/examples/trained/" + name; }

nlohmann::json read(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }

// A statistic (a JSON number, docs/formats.md) or a decimal string (an enclosure's endpoint).
double num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::stod(j.get<std::string>()); }

// "p/q" (how iclcert writes exact numbers) as a double.
double exact(const nlohmann::json& j) {
  const std::string s = j.get<std::string>();
  const auto slash = s.find('/');
  return slash == std::string::npos ? std::stod(s) : std::stod(s.substr(0, slash)) / std::stod(s.substr(slash + 1));
}

double max_residual(const nlohmann::json& extraction) {
  double worst = 0;
  for (const auto& layer : extraction["layers"])
    for (const auto& head : layer["heads"])
      worst = std::max({worst, num(head["score"]["residual"]), num(head["value"]["residual"])});
  return worst;
}

TEST_F(Trained, EquivariantRunHasNoResidualAndReExtractsToTheShippedModel) {
  const auto r = iclcert("extract --model " + shipped("trained_equivariant_model.json") + " --d 4 --json " +
                         path("x.json") + " --out " + path("reduced.json") + " --max-residual 1e-6");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto x = read(path("x.json"));
  EXPECT_EQ(x["layers"].size(), 4u);
  EXPECT_LT(max_residual(x), 1e-6);
  EXPECT_EQ(x["d"], 4);
  EXPECT_EQ(x["C"], 3);
  // The full form the trainer exported projects to the same coefficients.
  ASSERT_EQ(iclcert("extract --model " + shipped("trained_equivariant_full_model.json") + " --d 4 --C 3 --out " +
                    path("from_full.json")).status, 0);
  // PyTorch built the dense entries th1 + th2 in float32, so the two agree to float32 rounding.
  const auto from_dense = read(path("reduced.json")), from_full = read(path("from_full.json"));
  for (std::size_t l = 0; l < 4; ++l)
    for (const char* k : {"beta", "gamma", "alpha", "alpha_label"}) {
      const double a = exact(from_dense["layers"][l][k]), b = exact(from_full["layers"][l][k]);
      EXPECT_NEAR(a, b, 1e-6 * std::max(1.0, std::abs(b))) << "layer " << l << " " << k;
    }
  // And re-extracting gives the shipped extracted model exactly.
  EXPECT_EQ(from_dense, read(shipped("trained_equivariant_extracted_model.json")));
}

TEST_F(Trained, RunWithoutTheSymmetryHasAClearlyLargerResidual) {
  ASSERT_EQ(iclcert("extract --model " + shipped("trained_equivariant_model.json") + " --d 4 --json " + path("eq.json"))
                .status, 0);
  const auto r = iclcert("extract --model " + shipped("trained_free_model.json") + " --d 4 --json " + path("free.json") +
                         " --max-residual 0.1");
  EXPECT_EQ(r.status, 1) << r.output;  // residual above the bound: exit 1, and the report is still written
  const double eq = max_residual(read(path("eq.json"))), free = max_residual(read(path("free.json")));
  EXPECT_GT(free, 0.3);
  EXPECT_GT(free, 1e6 * eq + 0.3);
}

TEST_F(Trained, ExtractedRecursionAgreesWithTheTrainedPredictions) {
  ASSERT_EQ(iclcert("extract --model " + shipped("trained_equivariant_model.json") + " --d 4 --out " +
                    path("reduced.json")).status, 0);
  const auto r = iclcert("compare --model " + shipped("trained_equivariant_model.json") + " --against " +
                         path("reduced.json") + " --prompt-file " + shipped("heldout_prompts.json") + " --predictions " +
                         shipped("trained_equivariant_predictions.json") +
                         " --validate 10 --min-agreement 0.97 --no-progress --json " + path("c.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto c = read(path("c.json"));
  EXPECT_EQ(c["prompts"], 1000);
  ASSERT_EQ(c["layers"].size(), 5u);
  // The import: iclcert's float32 run of the dense weights against PyTorch's own.
  EXPECT_GE(num(c["exported_predictions"]["agreement_a"]), 0.998);
  EXPECT_LT(num(c["exported_predictions"]["max_logit_deviation_a"]), 1e-3);
  // The extracted recursion against the trained model's exported predictions.
  EXPECT_GE(num(c["exported_predictions"]["agreement_b"]), 0.97);
  EXPECT_GE(num(c["agreement"]), 0.97);
  // In context: three baselines, and the trained model beats 1-nearest-neighbour.
  ASSERT_EQ(c["baselines"].size(), 3u);
  const double trained = num(c["layers"][4]["accuracy_a"]);
  for (const auto& b : c["baselines"]) {
    EXPECT_GT(num(b["accuracy"]), 0.5) << b["name"];
    EXPECT_LT(num(b["accuracy"]), 0.95) << b["name"];
  }
  EXPECT_GT(trained, num(c["baselines"][1]["accuracy"]));
  // Certified: 10 prompts, both predictions decided on most of them at the last depth.
  const auto& cert = c["layers"][4]["certified"];
  EXPECT_EQ(cert["prompts"], 10);
  EXPECT_GE(cert["both_certified"].get<int>(), 8);
  EXPECT_EQ(cert["float_flips_a"], 0);
  // Per prompt: tight enclosures of the trained model's final logits, within
  // float32 error of PyTorch's own logits (the import checked against exact math).
  const auto exported = read(shipped("trained_equivariant_predictions.json"));
  ASSERT_EQ(c["certified"].size(), 10u);
  for (const auto& p : c["certified"]) {
    ASSERT_EQ(p["logits_a"].size(), 3u);
    for (int k = 0; k < 3; ++k) {
      const auto& e = p["logits_a"][k];
      EXPECT_LE(num(e[0]), num(e[1]));
      EXPECT_LT(num(e[1]) - num(e[0]), 1e-30);
      const double torch = num(exported["probe_logits"][p["prompt"].get<int>()][k]);
      EXPECT_NEAR(torch, num(e[0]), 1e-4 * std::max(1.0, std::abs(torch))) << "prompt " << p["prompt"];
    }
    if (!p["certified_prediction_a"].is_null()) {
      EXPECT_EQ(p["certified_prediction_a"], p["float_prediction_a"]);
    }
  }
}

// Issue 16: exported predictions that the imported model reproduces on only 92.3%
// of the prompts once exited 0. Below --min-prediction-agreement (default 0.99) the
// import check fails (exit 1) and names the usual causes.
TEST_F(Trained, ExportedPredictionsBelowTheThresholdFailTheImportCheck) {
  const std::string model = shipped("trained_equivariant_model.json"), prompts = shipped("heldout_prompts.json");
  nlohmann::json exported = read(shipped("trained_equivariant_predictions.json"));
  exported.erase("probe_logits");
  auto& classes = exported["predictions"];
  for (std::size_t k = 0; k < classes.size(); k += 13) classes[k] = (classes[k].get<int>() + 1) % 3;  // 77 of 1000
  const std::string predictions = write("p.json", exported.dump());
  const std::string base = "compare --model " + model + " --against " + model + " --prompt-file " + prompts +
                           " --predictions " + predictions + " --no-baselines --no-progress";
  const auto r = iclcert(base + " --json " + path("c.json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("A agrees with the exported predictions on 0.9230, below --min-prediction-agreement 0.99"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("probe_is_key"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("biases"), std::string::npos) << r.output;
  EXPECT_EQ(read(path("c.json"))["exported_predictions"]["agreement_a"], 0.923);
  // A threshold the user lowers on purpose passes.
  EXPECT_EQ(iclcert(base + " --min-prediction-agreement 0.9").status, 0);
  // Thresholds that are not fractions are usage errors, NaN included.
  for (const char* bad : {"--min-agreement nan", "--min-agreement inf", "--min-agreement -0.1",
                          "--min-agreement 1.5", "--min-prediction-agreement nan", "--min-prediction-agreement 2"}) {
    const auto e = iclcert(base + " " + bad + " --json " + path("bad.json"));
    EXPECT_EQ(e.status, 2) << bad << "\n" << e.output;
    EXPECT_NE(e.output.find("expected a number in [0, 1]"), std::string::npos) << bad << "\n" << e.output;
    EXPECT_FALSE(fs::exists(path("bad.json"))) << bad;
  }
}

TEST_F(Trained, BadInputExitsTwoAndWritesNothing) {
  const std::string out = path("c.json");
  const std::string model = shipped("trained_equivariant_model.json"), prompts = shipped("heldout_prompts.json");
  struct Case {
    std::string args, mention;
  };
  const std::string short_predictions = write("p.json", R"({"format": 1, "predictions": [0, 1, 2]})");
  const std::string bad_class = write("q.json", R"({"format": 1, "predictions": [7]})");
  const std::string one_prompt = write("one.json", R"({"format": 1, "prompts": [{"d": 4, "C": 3, "N": 1,
      "X": [[1, 2, 3, 4]], "labels": [0], "probe": [0, 0, 0, 1], "probe_label": 1}]})");
  const std::string shallow = write("shallow.json", R"({"format": 1, "layers": [
      {"beta": "0", "gamma": "1", "alpha": "1", "alpha_label": "1"}]})");
  const std::string small = write("small.json", R"({"format": 1, "prompts": [{"d": 2, "C": 3, "N": 1,
      "X": [[1, 2]], "labels": [0], "probe": [0, 1]}]})");
  const std::string mixed = write("mixed.json", R"({"format": 1, "layers": [
      {"heads": [{"score_matrix": [[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]],
                  "value_matrix": [[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]}]},
      {"heads": [{"score_matrix": [[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0]],
                  "value_matrix": [[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0],[0,0,0,0,0]]}]}]})");
  const std::string malformed = write("bad.json", R"({"format": 1, "layers": [)");
  for (const Case& c : std::vector<Case>{
           {"compare --model " + model + " --against " + model + " --prompt-file " + prompts + " --predictions " +
                short_predictions + " --json " + out, "predictions"},
           {"compare --model " + model + " --against " + model + " --prompt-file " + one_prompt + " --predictions " +
                bad_class + " --json " + out, "predictions[0]"},
           {"compare --model " + model + " --against " + shallow + " --prompt-file " + one_prompt + " --json " + out,
            "same depth"},
           {"compare --model " + model + " --against " + model + " --prompt-file " + small + " --json " + out,
            "trained_equivariant_model.json: layer 0 is dense with matrices of size 7"},
           {"extract --model " + mixed + " --json " + out, "--sample d,C,N"},  // a dense model that does not record d, C
           {"extract --model " + model + " --d 5 --C 3 --json " + out, "do not split"},
           {"extract --model " + malformed + " --d 4 --json " + out, "bad.json"},
           {"extract --model " + mixed + " --d 2 --json " + out, "mixed.json: layer 1: dense matrices are 4 x 4"},
       }) {
    const auto r = iclcert(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.mention), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
}

}  // namespace
